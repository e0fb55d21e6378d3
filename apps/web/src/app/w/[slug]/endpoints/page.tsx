'use client';
import { EndpointList } from '../../../../components/endpoints/endpoint-list.tsx';

export default function EndpointsPage() {
  return (
    <>
      <div className="page-title">
        <h1>Endpoints</h1>
      </div>
      <EndpointList />
    </>
  );
}
