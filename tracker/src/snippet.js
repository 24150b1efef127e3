// The loader snippet a site pastes into <head>, before anything calls pulso. It defines a stand-in `pulso`
// that queues calls, loads pulso.js asynchronously, and the real tracker replays the queue when it arrives.
// Replace the script URL, the write key and the options; minified copy in README.md.
(function (w, d, src, key, options) {
  var p = (w.pulso = w.pulso || []);
  if (p.VERSION || p.snippet) return;
  p.snippet = true;
  ['init', 'track', 'identify', 'page', 'reset'].forEach(function (method) {
    p[method] = function () {
      p.push([method].concat([].slice.call(arguments)));
    };
  });
  var script = d.createElement('script');
  script.async = true;
  script.src = src;
  d.head.appendChild(script);
  p.init(key, options);
  p.page();
})(window, document, 'https://pulso.example.com/t/pulso.js', 'WRITE_KEY', {});
