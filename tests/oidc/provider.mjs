// A real OpenID provider (the certified `oidc-provider`) for the single sign-on tests, on loopback.
//
// Environment:
//   OIDC_PORT          the port to listen on (127.0.0.1)
//   OIDC_REDIRECT_URI  Custodian's return address, registered for both clients
//   OIDC_SUBJECT       the synthetic person every sign-in signs in as (no login form: tests need none)
//   OIDC_AUDIENCE      optional: issue the ID token from the token endpoint to this other client
//                      instead, as a confused or compromised provider would (the audience test)
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const redirectUri = process.env.OIDC_REDIRECT_URI;
const subject = process.env.OIDC_SUBJECT ?? 'synthetic-subject-0001';
const otherAudience = process.env.OIDC_AUDIENCE;
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const client = (id, secret) => ({
  client_id: id,
  client_secret: secret,
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [
    client('custodian', 'custodian-test-secret'),
    client('other-service', 'other-service-test-secret'),
  ],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  // Every person is the one synthetic subject, and says nothing else about themselves.
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id }; } };
  },
  // Custodian asks only for `openid`; it is granted without a consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  // The login "page" signs the synthetic subject in at once and sends the browser on.
  const interaction = ctx.path.match(/^\/interaction\/[^/]+$/);
  if (interaction && ctx.method === 'GET') {
    await provider.interactionDetails(ctx.req, ctx.res);
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: subject } }, { mergeWithLastSubmission: false });
    return;
  }
  await next();
  if (otherAudience && ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
    // Issued by the provider's own code and key, with everything right but the audience.
    const [, payload] = ctx.body.id_token.split('.');
    const original = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const other = await provider.Client.find(otherAudience);
    const token = new provider.IdToken({ sub: original.sub }, { ctx, client: other });
    token.scope = 'openid';
    token.set('nonce', original.nonce);
    ctx.body = { ...ctx.body, id_token: await token.issue({ use: 'idtoken' }) };
  }
});

// Ends with the test process that started it, however that ends.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
