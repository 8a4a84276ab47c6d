/**
 * An explanation as Markdown (a chat model writes lists, code spans and emphasis), parsed by marked
 * and sanitized by DOMPurify before it reaches the page; the CSP blocks scripts and remote content
 * anyway.
 */
import DOMPurify from 'dompurify';
import { marked } from 'marked';

export function markdownElement(text: string): HTMLElement {
  const div = document.createElement('div');
  div.className = 'markdown';
  div.innerHTML = DOMPurify.sanitize(marked.parse(text, { async: false, gfm: true, breaks: false }) as string, {
    USE_PROFILES: { html: true },
  });
  return div;
}
