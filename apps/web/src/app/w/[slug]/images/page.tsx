'use client';
import { ImagesManager } from '../../../../components/workspace/images-manager.tsx';

export default function ImagesPage() {
  return (
    <>
      <div className="page-title">
        <h1>Images</h1>
      </div>
      <ImagesManager />
    </>
  );
}
