// A real OpenID Connect provider on loopback for the browser tests: the oauth2-mock-server npm
// package (installed by .ci/run into target/oidc-mock; run with NODE_PATH pointing there). It
// signs ID tokens with a fresh RSA key, honours PKCE and the nonce, and signs in whoever the
// test names: each line on stdin is JSON {"email", "name", "groups": [..]} for the next
// sign-ins. Prints the issuer URL once listening; exits when stdin closes (the test ended).
'use strict';
const { OAuth2Server } = require('oauth2-mock-server');
const readline = require('readline');

let identity = { email: 'nobody@example.com', name: 'Nobody', groups: [] };

async function main() {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  server.service.on('beforeTokenSigning', (token) => {
    token.payload.sub = identity.email;
    token.payload.email = identity.email;
    token.payload.email_verified = true;
    token.payload.name = identity.name;
    token.payload.groups = identity.groups;
  });
  await server.start(0, '127.0.0.1');
  process.stdout.write(server.issuer.url + '\n');
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    identity = JSON.parse(line);
    process.stdout.write('ok\n');
  });
  lines.on('close', async () => {
    await server.stop();
    process.exit(0);
  });
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
