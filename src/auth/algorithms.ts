// The JWS algorithms berth accepts on bearer tokens: asymmetric only. HMAC (HS*) would need a
// secret shared with the issuer, and berth's refresh tokens are HMAC-signed: accepting HS* here
// could let a refresh token pass as an access token.
export const ASYMMETRIC_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;
