// Where an endpoint's requests go. registry:2 configurations put a receiver's Basic credentials in
// its URL (https://user:password@hooks.example.com/registry): distribution's Go client sends them
// as an Authorization header, unless the endpoint's headers set one. Node's fetch refuses a URL
// with user information altogether (and its message quotes the URL, credentials included), so the
// credentials are taken out here, once per endpoint.

export interface EndpointTarget {
  /** The URL without user information. */
  url: string;
  /** `Basic <base64(user:password)>` when the URL had user information. */
  authorization?: string;
}

/** Percent-escapes in user information are decoded, as Go's url.Userinfo gives them. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function endpointTarget(url: string): EndpointTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url }; // fetch reports it at each attempt, as any unreachable URL
  }
  if (!u.username && !u.password) return { url };
  const credentials = `${decoded(u.username)}:${decoded(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}
