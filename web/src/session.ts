/**
 * Who is logged in: the Authorization header the dashboard sends (Basic for the admin, Bearer for a token),
 * kept in sessionStorage so that a reload keeps the login and closing the tab forgets it.
 */
import { signal } from '@preact/signals';

export interface Session {
  authorization: string;
  /** Shown in the header. */
  who: string;
  /** The administrator sees the admin-only pages. */
  admin?: boolean;
}

const STORAGE_KEY = 'nubes.session';

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

const current = signal<Session | null>(load());
/** Set when the server refused the stored credentials, so the login page can say why. */
export const sessionMessage = signal<string>('');

export const session = {
  get value(): Session | null {
    return current.value;
  },
  signal: current,
  start(value: Session): void {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    sessionMessage.value = '';
    current.value = value;
  },
  end(): void {
    sessionStorage.removeItem(STORAGE_KEY);
    current.value = null;
  },
  expired(): void {
    if (!current.value) return;
    sessionMessage.value = 'The server refused the credentials: log in again.';
    session.end();
  },
};

export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}
