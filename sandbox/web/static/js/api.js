// HTTP helpers for the sandbox control API (/sandbox/api) and the page's own routes.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function request(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || response.statusText);
  }
  return data;
}

export const control = (path) => `/sandbox/api${path}`;
export const get = (path) => request('GET', control(path));
export const post = (path, body) => request('POST', control(path), body ?? {});

export function fileUrl(fileId) {
  return control(`/files/${encodeURIComponent(fileId)}`);
}

// The control API takes file bytes as base64 in JSON.
export function toBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/bmp']);
const PHOTO_LIMIT = 10 * 1024 * 1024;

// A picture goes as a photo (Telegram compresses it), anything else as a document.
export async function fileMessage(file, extra = {}) {
  const data = await toBase64(file);
  if (PHOTO_TYPES.has(file.type) && file.size <= PHOTO_LIMIT) {
    return { ...extra, kind: 'photo', data_b64: data };
  }
  return {
    ...extra,
    kind: 'document',
    data_b64: data,
    file_name: file.name || 'file',
    mime_type: file.type || undefined,
  };
}
