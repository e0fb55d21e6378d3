'use client';
import { useParams } from 'next/navigation';
import { EndpointPage } from '../../../../../components/endpoints/endpoint-page.tsx';

export default function EndpointRoute() {
  const { endpointId } = useParams<{ endpointId: string }>();
  return <EndpointPage endpointId={endpointId} />;
}
