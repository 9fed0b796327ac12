"""Single sign-on with OpenID Connect: the authorization code flow with PKCE against one
configured provider (`[auth.oidc]`).

- settings.py: the `[auth.oidc]` table.
- provider.py: the provider's discovery document and signing keys, fetched and kept.
- flow.py: starting a sign-in (state, nonce, PKCE verifier kept server-side, single use) and
  finishing it (the code exchanged for tokens, the ID token checked by joserfc).
- identity.py: what the ID token says about the person: subject, username, role, teams.
- accounts.py: the local user made or updated from that identity, and the session.
- routes.py: GET /login/oidc and GET /login/oidc/callback.
"""
