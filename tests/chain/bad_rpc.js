// A deliberately misbehaving JSON-RPC endpoint for tests/chain/fault_test.c.
// Listens on 127.0.0.1 (a free port) and prints "listening PORT". The URL path
// picks the fault:
//   /ok          a tiny well-behaved node: eth_chainId 0x7a69, eth_blockNumber 0x10, eth_feeHistory,
//                but no eth_maxPriorityFeePerGas
//   /http500     HTTP 500 with a text body
//   /garbage     HTTP 200 with a body that is not JSON
//   /huge        HTTP 200 streaming 64 MiB of a JSON string (until the client hangs up)
//   /rpcerror    a JSON-RPC error object with code 3, a message and revert data
//   /hang        accepts the request and never answers
//   /wrongchain  eth_chainId 0x1
//   /badid       a response whose id does not match the request
//   /badshape    eth_blockNumber as a JSON number, eth_chainId as "0xzz", feeHistory rows of 2
'use strict';
const http = require('http');

function reply(res, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    let msg = {};
    try { msg = JSON.parse(body); } catch (e) { /* the faults below do not care */ }
    const id = msg.id;
    switch (req.url) {
      case '/ok':
        if (msg.method === 'eth_chainId') return reply(res, { jsonrpc: '2.0', id, result: '0x7a69' });
        if (msg.method === 'eth_blockNumber') return reply(res, { jsonrpc: '2.0', id, result: '0x10' });
        if (msg.method === 'eth_feeHistory')
          return reply(res, { jsonrpc: '2.0', id, result: { oldestBlock: '0xb',
            baseFeePerGas: ['0x10', '0x20', '0x30', '0x40', '0x50', '0x64'],
            gasUsedRatio: [0.5, 0.5, 0.5, 0.5, 0.5],
            reward: [['0x5'], ['0x1'], ['0x9'], ['0x3'], ['0x7']] } });
        // like a node without eth_maxPriorityFeePerGas
        return reply(res, { jsonrpc: '2.0', id, error: { code: -32601, message: 'method not found' } });
      case '/http500':
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        return res.end('internal error');
      case '/garbage':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end('{"jsonrpc": "2.0", "id": ' + id + ', "result": [1, 2,');
      case '/huge': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"jsonrpc":"2.0","id":' + id + ',"result":"0x');
        const chunk = Buffer.alloc(1 << 16, 0x61);
        let left = 1024;
        const pump = () => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
          res.end('"}');
        };
        res.on('error', () => {});
        req.socket.on('error', () => {});
        return pump();
      }
      case '/rpcerror':
        return reply(res, { jsonrpc: '2.0', id, error: { code: 3, message: 'execution reverted: nope',
          data: '0x08c379a00000000000000000000000000000000000000000000000000000000000000020' +
                '0000000000000000000000000000000000000000000000000000000000000004' +
                '6e6f706500000000000000000000000000000000000000000000000000000000' } });
      case '/hang':
        return; // never answer
      case '/wrongchain':
        if (msg.method === 'eth_chainId') return reply(res, { jsonrpc: '2.0', id, result: '0x1' });
        return reply(res, { jsonrpc: '2.0', id, result: '0x0' });
      case '/badid':
        return reply(res, { jsonrpc: '2.0', id: (typeof id === 'number' ? id + 1000 : 0), result: '0x1' });
      case '/badshape':
        if (msg.method === 'eth_chainId') return reply(res, { jsonrpc: '2.0', id, result: '0xzz' });
        if (msg.method === 'eth_feeHistory')
          return reply(res, { jsonrpc: '2.0', id, result: { baseFeePerGas: ['0x1'], reward: [['0x1', '0x2']] } });
        return reply(res, { jsonrpc: '2.0', id, result: 16 });
      default:
        res.writeHead(404);
        return res.end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log('listening ' + server.address().port);
});
process.on('SIGTERM', () => process.exit(0));
