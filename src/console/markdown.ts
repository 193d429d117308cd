// Repository descriptions are Markdown written by users: rendered with raw HTML disabled (any
// markup in the text is shown as text), markdown-it's link validation (no javascript: or data:
// URLs), and links that neither pass the referrer nor give the target page a handle on ours.
import MarkdownIt from 'markdown-it';
import { trusted, type Html } from './html.ts';

const md = new MarkdownIt({ html: false, linkify: true, typographer: false });
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('rel', 'nofollow noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};
// Images would load from anywhere (the CSP would block them anyway): show them as links.
md.disable('image');

export function renderMarkdown(text: string): Html {
  return trusted(md.render(text));
}
