/**
 * Uploads a browser File to a bucket through the API: one streamed PUT for small files, parts of
 * PART_BYTES (two at a time, each retried once) for large ones, with progress in bytes.
 */
import { ApiError, authHeader, enc, sendJson } from './api';

export const MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
export const PART_BYTES = 8 * 1024 * 1024;
const PARALLEL_PARTS = 2;

function put(
  url: string,
  body: Blob,
  contentType: string,
  onProgress: (loaded: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(authHeader())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('content-type', contentType || 'application/octet-stream');
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve();
        return;
      }
      let message = `HTTP ${xhr.status}`;
      let code = `HTTP_${xhr.status}`;
      try {
        const parsed = JSON.parse(xhr.responseText) as { error?: { code: string; message: string } };
        if (parsed.error) ({ code, message } = parsed.error);
      } catch {
        // keep the status
      }
      reject(new ApiError(xhr.status, code, message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'the upload was interrupted'));
    xhr.send(body);
  });
}

export async function uploadFile(
  bucket: string,
  key: string,
  file: File,
  onProgress: (loaded: number) => void,
): Promise<void> {
  if (file.size <= MULTIPART_THRESHOLD_BYTES) {
    await put(`/system/storage/${enc(bucket)}/object?key=${enc(key)}`, file, file.type, onProgress);
    return;
  }
  const { upload_id: uploadId } = await sendJson<{ upload_id: string }>(
    'POST',
    `/system/storage/${enc(bucket)}/uploads`,
    {
      key,
    },
  );
  const base = `/system/storage/${enc(bucket)}/uploads/${enc(uploadId)}`;
  const parts = Math.ceil(file.size / PART_BYTES);
  const loaded = new Array<number>(parts).fill(0);
  const report = () => onProgress(loaded.reduce((a, b) => a + b, 0));
  let next = 0;
  const worker = async () => {
    while (next < parts) {
      const index = next++;
      const blob = file.slice(index * PART_BYTES, Math.min(file.size, (index + 1) * PART_BYTES));
      const send = () =>
        put(`${base}/${index + 1}`, blob, 'application/octet-stream', (bytes) => {
          loaded[index] = bytes;
          report();
        });
      try {
        await send();
      } catch {
        loaded[index] = 0;
        await send();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, parts) }, worker));
    await sendJson('POST', `${base}/complete`, { parts });
  } catch (error) {
    await sendJson('DELETE', base).catch(() => undefined);
    throw error;
  }
}
