// Runs inside a pod sandbox's network namespace: localhost:9443 there is piped to the host Unix socket
// where the simulated REST API of this pod listens (path-based Unix sockets cross network namespaces).
// Plain JavaScript, started with node directly, so a sandbox starts in well under a second.
import net from 'node:net';

const socketPath = process.env.SIM_REST_SOCKET;
if (!socketPath) {
  process.stderr.write('SIM_REST_SOCKET is not set\n');
  process.exit(2);
}

function forward(client) {
  const upstream = net.connect(socketPath);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}

function listen(host) {
  return new Promise((resolve) => {
    const server = net.createServer(forward);
    server.once('error', () => resolve(false));
    server.listen(9443, host, () => resolve(true));
  });
}

// curl tries ::1 and 127.0.0.1 for "localhost"; serving both avoids a refused-then-retry round trip.
if (!(await listen('127.0.0.1'))) {
  process.stderr.write('cannot listen on 127.0.0.1:9443\n');
  process.exit(1);
}
await listen('::1');
// If the simulator dies without cleaning up (SIGKILL), its end of our stdin closes: leave with it,
// which tears the namespaces down.
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
// Our pid is the sandbox's forked child (the setup shell exec'd us): the host enters it with nsenter.
process.stdout.write(`ready ${process.pid}\n`);
