// The one place that loads @peculiar/x509: the Reflect shim must run first, and the library must
// sign with Node's WebCrypto. Only `berth tls` imports this; the server never does.
import './reflect-shim.ts';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
export const subtle = webcrypto.subtle;
