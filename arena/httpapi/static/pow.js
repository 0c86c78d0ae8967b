// Agora proof of work (docs/protocol.md, "Proof of work"): before a new
// identity connects, fetch a challenge and find a counter such that
// SHA-256(challenge + ":" + counter) starts with `bits` zero bits.
// AgoraPow.wsURL(url) resolves to the websocket URL to open, with
// ?pow=CHALLENGE:COUNTER when the server asks for work. The page solves in
// a Web Worker (this same file), showing its progress in #pow-progress;
// node requires the file for solve.
"use strict";
(function (root) {
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  const W = new Uint32Array(64);
  // This file's own URL, for the worker (document.currentScript is only
  // set while the file first runs).
  const selfURL = typeof document !== "undefined" && document.currentScript ? document.currentScript.src : "/static/pow.js";

  // sha256 puts the first two words of SHA-256 of the ASCII bytes in
  // msg [0, len) in out (enough to count leading zeros). msg must be a
  // whole number of 64-byte blocks, room for the padding, zero after len.
  function sha256(msg, len, out) {
    const end = (((len + 8) >> 6) + 1) * 64;
    msg[len] = 0x80;
    const bitLen = len * 8;
    msg[end - 4] = bitLen >>> 24; msg[end - 3] = bitLen >>> 16;
    msg[end - 2] = bitLen >>> 8; msg[end - 1] = bitLen;
    let h0 = 0x6a09e667, h1 = 0xbb67ae85, h2 = 0x3c6ef372, h3 = 0xa54ff53a;
    let h4 = 0x510e527f, h5 = 0x9b05688c, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
    for (let off = 0; off < end; off += 64) {
      for (let i = 0; i < 16; i++) {
        const j = off + i * 4;
        W[i] = (msg[j] << 24) | (msg[j + 1] << 16) | (msg[j + 2] << 8) | msg[j + 3];
      }
      for (let i = 16; i < 64; i++) {
        const a = W[i - 15], b = W[i - 2];
        const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    }
    out[0] = h0 >>> 0; out[1] = h1 >>> 0;
  }

  function zeroBits(w0, w1) {
    if (w0 !== 0) return Math.clz32(w0);
    return 32 + Math.clz32(w1);
  }

  // solve returns "challenge:counter" for the first counter with bits
  // leading zero bits (at most 64 are checked), calling progress(tried),
  // when given, every 4096 tries.
  function solve(challenge, bits, progress) {
    const prefix = challenge + ":";
    const size = (((prefix.length + 20 + 8) >> 6) + 1) * 64;
    const buf = new Uint8Array(size);
    const out = new Uint32Array(2);
    for (let n = 0; ; n++) {
      const s = String(n);
      buf.fill(0);
      for (let i = 0; i < prefix.length; i++) buf[i] = prefix.charCodeAt(i);
      for (let i = 0; i < s.length; i++) buf[prefix.length + i] = s.charCodeAt(i);
      sha256(buf, prefix.length + s.length, out);
      if (zeroBits(out[0], out[1]) >= bits) return prefix + s;
      if (progress && (n & 4095) === 4095) progress(n + 1);
    }
  }

  // solveInWorker solves in a Web Worker running this file, calling
  // progress(tried) as it goes; without workers, on this thread.
  function solveInWorker(challenge, bits, progress) {
    let w;
    try {
      w = new Worker(selfURL);
    } catch (e) {
      return Promise.resolve(solve(challenge, bits, progress));
    }
    return new Promise((resolve, reject) => {
      w.onmessage = (ev) => {
        if (ev.data.solution) { w.terminate(); resolve(ev.data.solution); } else progress(ev.data.tried);
      };
      w.onerror = (ev) => { w.terminate(); reject(new Error(ev.message || "proof of work failed")); };
      w.postMessage({ challenge: challenge, bits: bits });
    });
  }

  // showProgress shows the work's progress in #pow-progress (a labelled
  // <progress>): the chance that work like it would be done by now.
  function showProgress(bits) {
    const box = document.getElementById("pow-progress");
    const bar = box && box.querySelector("progress");
    if (!bar) return { update() {}, done() {} };
    box.hidden = false;
    bar.value = 0;
    return {
      update(tried) { bar.value = 1 - Math.exp(-tried / Math.pow(2, bits)); },
      done() { box.hidden = true; },
    };
  }

  // wsURL resolves to url, with the solution of the server's challenge
  // when it asks for one (a visitor without a valid token).
  async function wsURL(url) {
    const res = await fetch("/api/v1/arena/challenge", { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) return url;
    const c = await res.json();
    if (!c.bits || !c.challenge) return url;
    const shown = showProgress(c.bits);
    try {
      const solution = await solveInWorker(c.challenge, c.bits, shown.update);
      return url + (url.includes("?") ? "&" : "?") + "pow=" + encodeURIComponent(solution);
    } finally {
      shown.done();
    }
  }

  const api = { solve: solve, wsURL: wsURL };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  } else if (typeof WorkerGlobalScope !== "undefined" && root instanceof WorkerGlobalScope) {
    root.onmessage = (ev) => {
      const solution = solve(ev.data.challenge, ev.data.bits, (tried) => root.postMessage({ tried: tried }));
      root.postMessage({ solution: solution });
    };
  } else {
    root.AgoraPow = api;
  }
})(this);
