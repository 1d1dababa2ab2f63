// Sign-in providers for the tests, on one local port:
// - a real OpenID Connect provider (`oidc-provider`): discovery, its keys, the
//   authorization code flow with PKCE, signed ID tokens, userinfo. Its login and
//   consent screens are answered here at once, as the account the test named
//   last (POST /control/next), so a test drives the whole flow without a person.
// - a GitHub-like OAuth 2 server under /github: authorize, access_token (PKCE and
//   the client secret checked, each code good once), and the API's /user and
//   /user/emails.
// - the model server of models.mjs under /models, for the assistant.
// Prints {"port", "issuer"} as one JSON line once it listens.
//
// node mock.mjs --redirect URL [--port N]
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import { body, models, send } from './models.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const redirect = arg('redirect');
if (!redirect) throw new Error('--redirect URL is needed');

// The accounts tests sign in as, by subject; `next` is who signs in next.
const accounts = new Map();
let next = { oidc: null, github: null };

function account(sub) {
  return {
    accountId: sub,
    async claims() {
      return { sub, ...accounts.get(sub) };
    },
  };
}

const clients = [
  { client_id: 'webide', client_secret: 'webide-secret', redirect_uris: [redirect] },
  // Another application of the same provider: its tokens are not for the IDE.
  { client_id: 'other-app', client_secret: 'other-secret', redirect_uris: ['http://other.test/cb'] },
].map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'] }));

let provider;
const github = { codes: new Map(), tokens: new Map() };

// Login and consent, answered at once for the named account.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (!next.oidc) return send(res, 400, { error: 'no account named: POST /control/next first' });
    return provider.interactionFinished(req, res, { login: { accountId: next.oidc } }, { mergeWithLastSubmission: false });
  }
  const d = details.prompt.details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const sha256 = (s) => crypto.createHash('sha256').update(s).digest('base64url');

async function githubRoute(req, res, url) {
  const path = url.pathname.slice('/github'.length);
  if (path === '/login/oauth/authorize') {
    const q = url.searchParams;
    if (q.get('client_id') !== 'gh-client') return send(res, 400, { error: 'unknown client' });
    if (q.get('redirect_uri') !== redirect) return send(res, 400, { error: 'redirect_uri mismatch' });
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
      return send(res, 400, { error: 'PKCE (S256) is required here' });
    }
    if (!next.github) return send(res, 400, { error: 'no account named: POST /control/next first' });
    const code = crypto.randomBytes(16).toString('hex');
    github.codes.set(code, { user: next.github, challenge: q.get('code_challenge') });
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state'));
    res.writeHead(302, { location: back.toString() });
    return res.end();
  }
  if (path === '/login/oauth/access_token' && req.method === 'POST') {
    const form = new URLSearchParams(await body(req));
    let [id, secret] = [form.get('client_id'), form.get('client_secret')];
    const basic = (req.headers.authorization || '').match(/^Basic (.+)$/);
    if (basic) {
      [id, secret] = Buffer.from(basic[1], 'base64').toString().split(':').map(decodeURIComponent);
    }
    const issued = github.codes.get(form.get('code'));
    github.codes.delete(form.get('code'));
    // GitHub answers 200 with an error in the body.
    if (id !== 'gh-client' || secret !== 'gh-secret') return send(res, 200, { error: 'incorrect_client_credentials' });
    if (!issued) return send(res, 200, { error: 'bad_verification_code' });
    if (sha256(form.get('code_verifier') || '') !== issued.challenge) {
      return send(res, 200, { error: 'bad_verification_code', error_description: 'PKCE' });
    }
    const token = crypto.randomBytes(16).toString('hex');
    github.tokens.set(token, issued.user);
    return send(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
  }
  const token = (req.headers.authorization || '').replace(/^(Bearer|token) /, '');
  const user = github.tokens.get(token);
  if (!user) return send(res, 401, { message: 'Bad credentials' });
  if (path === '/api/user') {
    return send(res, 200, { id: user.id, login: user.login, name: user.name, avatar_url: null });
  }
  if (path === '/api/user/emails') {
    return send(res, 200, user.email ? [{ email: user.email, primary: true, verified: user.verified !== false }] : []);
  }
  return send(res, 404, { message: 'Not Found' });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, provider.issuer);
    if (url.pathname.startsWith('/github/')) return await githubRoute(req, res, url);
    if (url.pathname.startsWith('/models/') && (await models(req, res, url.pathname.slice('/models'.length)))) return;
    if (url.pathname === '/control/next' && req.method === 'POST') {
      const who = JSON.parse(await body(req));
      if (who.provider === 'github') {
        next.github = who;
      } else {
        accounts.set(who.sub, {
          email: who.email,
          email_verified: who.email_verified !== false,
          name: who.name,
          preferred_username: who.preferred_username,
        });
        next.oidc = who.sub;
      }
      return send(res, 200, { ok: true });
    }
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res);
    return provider.callback()(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) send(res, 500, { error: String(e) });
  }
});

server.listen(Number(arg('port', 0)), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, {
    clients,
    findAccount: (ctx, sub) => (accounts.has(sub) ? account(sub) : undefined),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    interactions: { url: (ctx, i) => `/interaction/${i.uid}` },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
  });
  console.log(JSON.stringify({ port, issuer }));
});
