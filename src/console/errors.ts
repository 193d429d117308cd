// Outcomes a page handler throws; the router renders them (a 404 page never tells a visitor
// without access whether the repository exists).
export class NotFound extends Error {
  constructor() {
    super('not found');
  }
}

export class Forbidden extends Error {
  constructor() {
    super('forbidden');
  }
}

/** The request needs a signed-in user: the router redirects to the login form. */
export class SignInRequired extends Error {
  constructor() {
    super('sign in required');
  }
}
