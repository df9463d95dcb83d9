// The service-worker style handler componentize-js also supports. Such a component answers only the
// first request of each instance; wasinet detects that and serves one request per instance.
addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  event.respondWith(new Response(`hello from ${url.pathname}\n`, { headers: { 'content-type': 'text/plain' } }));
});
