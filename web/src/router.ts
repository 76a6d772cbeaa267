/**
 * Hash routes (`#/services/cowsay`): the server serves one index.html, and a reload keeps the page.
 */
import { signal } from '@preact/signals';

function currentPath(): string {
  const hash = location.hash.replace(/^#/, '');
  return hash === '' ? '/services' : hash;
}

export const route = signal<string>(currentPath());

addEventListener('hashchange', () => {
  route.value = currentPath();
});

export function navigate(path: string): void {
  location.hash = path;
}

/** Splits `/buckets/data/in/` into decoded segments (a trailing empty segment kept for folders). */
export function segments(path: string): string[] {
  return path
    .split('/')
    .slice(1)
    .map((part) => decodeURIComponent(part));
}

export function href(...parts: string[]): string {
  return '#/' + parts.map((part) => encodeURIComponent(part)).join('/');
}
