/**
 * Buckets and their folders: browse, upload by drag and drop (or a file picker) with progress, download,
 * delete, and presigned links to share one file.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, enc, getJson, saveResponse, sendJson } from '../api';
import { formatBytes, formatTime } from '../format';
import { href } from '../router';
import { uploadFile } from '../upload';

interface Listing {
  folders: string[];
  files: { key: string; size: number; last_modified: string; content_type: string }[];
  next_start_after: string | null;
}

interface Transfer {
  name: string;
  size: number;
  loaded: number;
  state: 'uploading' | 'done' | 'failed';
  message?: string;
}

function folderHref(bucket: string, prefix: string): string {
  return (
    href('buckets', bucket) +
    (prefix ? '/' + prefix.split('/').filter(Boolean).map(encodeURIComponent).join('/') + '/' : '')
  );
}

interface Bucket {
  bucket_name: string;
  visibility: string;
  owner: string;
}

function BucketList() {
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [error, setError] = useState('');
  const [name, setName] = useState('');
  const load = useCallback(() => {
    getJson<Bucket[]>('/system/buckets')
      .then(setBuckets)
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(load, [load]);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      await sendJson('POST', '/system/buckets', { bucket_name: name.trim() });
      setName('');
      setError('');
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const remove = async (bucket: string) => {
    if (!confirm(`Delete bucket ${bucket} and every file in it?`)) return;
    try {
      await call(`/system/buckets/${enc(bucket)}`, { method: 'DELETE' });
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section>
      <h1>Buckets</h1>
      <form class="inline-form" onSubmit={(event) => void create(event)}>
        <label for="new-bucket">New bucket</label>
        <input id="new-bucket" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        <button type="submit">Create</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {buckets?.length === 0 && <p>No buckets yet: services create theirs when deployed.</p>}
      {buckets && buckets.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Buckets</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Visibility</th>
                <th scope="col">Owner</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((bucket) => (
                <tr key={bucket.bucket_name} data-bucket={bucket.bucket_name}>
                  <th scope="row">
                    <a href={href('buckets', bucket.bucket_name)}>{bucket.bucket_name}</a>
                  </th>
                  <td>{bucket.visibility}</td>
                  <td>{bucket.owner || '—'}</td>
                  <td>
                    <button
                      type="button"
                      class="link danger"
                      onClick={() => void remove(bucket.bucket_name)}
                      aria-label={`Delete bucket ${bucket.bucket_name}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function Buckets({ bucket, prefix }: { bucket?: string; prefix: string }) {
  if (!bucket) return <BucketList />;
  return <Folder bucket={bucket} prefix={prefix && !prefix.endsWith('/') ? prefix + '/' : prefix} />;
}

function Folder({ bucket, prefix }: { bucket: string; prefix: string }) {
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState('');
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const [dragging, setDragging] = useState(false);
  const [link, setLink] = useState<{ key: string; url: string; expires: string } | null>(null);
  const [note, setNote] = useState('');

  const load = useCallback(() => {
    getJson<Listing>(`/system/storage/${enc(bucket)}?prefix=${enc(prefix)}`)
      .then((answer) => {
        setListing(answer);
        setError('');
      })
      .catch((e: Error) => setError(e.message));
  }, [bucket, prefix]);
  useEffect(load, [load]);

  const upload = async (files: File[]) => {
    const start = transfers.length;
    setTransfers((all) => [
      ...all,
      ...files.map((f) => ({ name: f.name, size: f.size, loaded: 0, state: 'uploading' as const })),
    ]);
    const update = (index: number, change: Partial<Transfer>) =>
      setTransfers((all) => all.map((t, i) => (i === start + index ? { ...t, ...change } : t)));
    await Promise.all(
      files.map(async (file, index) => {
        try {
          await uploadFile(bucket, prefix + file.name, file, (loaded) => update(index, { loaded }));
          update(index, { state: 'done', loaded: file.size });
        } catch (e) {
          update(index, { state: 'failed', message: (e as Error).message });
        }
      }),
    );
    load();
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length > 0) void upload(files);
  };

  const download = async (key: string) => {
    try {
      const response = await call(`/system/storage/${enc(bucket)}/object?key=${enc(key)}`);
      await saveResponse(response, key.split('/').pop() ?? 'download');
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const remove = async (key: string) => {
    if (!confirm(`Delete ${key}?`)) return;
    try {
      await call(`/system/storage/${enc(bucket)}/object?key=${enc(key)}`, { method: 'DELETE' });
      setNote(`Deleted ${key}.`);
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const presign = async (key: string) => {
    try {
      const answer = await sendJson<{ url: string; expires_at: string }>(
        'POST',
        `/system/buckets/${enc(bucket)}/presign`,
        { object_key: key, operation: 'download', expires_in: 3600 },
      );
      setLink({ key, url: answer.url, expires: answer.expires_at });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const crumbs = prefix.split('/').filter(Boolean);
  return (
    <section>
      <nav aria-label="Folder" class="crumbs">
        <a href="#/buckets">Buckets</a>
        {' / '}
        <a href={folderHref(bucket, '')}>{bucket}</a>
        {crumbs.map((part, i) => (
          <span key={i}>
            {' / '}
            <a href={folderHref(bucket, crumbs.slice(0, i + 1).join('/'))}>{part}</a>
          </span>
        ))}
      </nav>
      <h1>
        {bucket}/{prefix}
      </h1>
      <div
        class={`dropzone ${dragging ? 'dragging' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop files here to upload them to this folder, or</p>
        <label class="button secondary" for="upload-input">
          Choose files
        </label>
        <input
          id="upload-input"
          class="visually-hidden"
          type="file"
          multiple
          onChange={(e) => {
            const files = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = '';
            if (files.length > 0) void upload(files);
          }}
        />
      </div>
      {transfers.length > 0 && (
        <ul class="transfers" aria-label="Uploads">
          {transfers.map((t, i) => (
            <li key={i} data-state={t.state}>
              <span class="name">{t.name}</span>
              <progress
                max={t.size || 1}
                value={t.size ? t.loaded : t.state === 'done' ? 1 : 0}
                aria-label={`Upload of ${t.name}`}
              />
              <span>
                {t.state === 'failed'
                  ? `failed: ${t.message}`
                  : t.state === 'done'
                    ? `done, ${formatBytes(t.size)}`
                    : `${formatBytes(t.loaded)} of ${formatBytes(t.size)}`}
              </span>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {note && <p role="status">{note}</p>}
      {link && (
        <div class="card" role="status">
          <label for="presigned-url">
            Link to {link.key} (valid until {formatTime(link.expires)})
          </label>
          <input id="presigned-url" readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} />
        </div>
      )}
      <div class="title-row">
        <h2>Files</h2>
        <button type="button" class="secondary" onClick={load}>
          Refresh
        </button>
      </div>
      {listing && listing.folders.length === 0 && listing.files.length === 0 && <p>This folder is empty.</p>}
      {listing && (listing.folders.length > 0 || listing.files.length > 0) && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">
              Files in {bucket}/{prefix}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Modified</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {listing.folders.map((folder) => (
                <tr key={folder}>
                  <th scope="row">
                    <a href={folderHref(bucket, folder)}>{folder.slice(prefix.length)}</a>
                  </th>
                  <td class="num">—</td>
                  <td>—</td>
                  <td />
                </tr>
              ))}
              {listing.files.map((file) => {
                const name = file.key.slice(prefix.length);
                return (
                  <tr key={file.key} data-key={file.key}>
                    <th scope="row">{name}</th>
                    <td class="num">{formatBytes(file.size)}</td>
                    <td>{formatTime(file.last_modified)}</td>
                    <td class="row-actions">
                      <button
                        type="button"
                        class="link"
                        onClick={() => void download(file.key)}
                        aria-label={`Download ${name}`}
                      >
                        Download
                      </button>
                      <button
                        type="button"
                        class="link"
                        onClick={() => void presign(file.key)}
                        aria-label={`Share link to ${name}`}
                      >
                        Link
                      </button>
                      <button
                        type="button"
                        class="link danger"
                        onClick={() => void remove(file.key)}
                        aria-label={`Delete ${name}`}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {listing?.next_start_after && <p class="hint">Only the first 1000 entries are shown.</p>}
    </section>
  );
}
