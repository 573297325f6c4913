// Copyright 2026 the @birkhoff/mhc authors. MIT license.
/**
 * A small static file server for the browser pages (the conformance page in
 * tests/browser/, and any page under web/): URL prefixes mounted on
 * directories, on 127.0.0.1 and a free port, no caching, nothing outside
 * the mounted directories.
 *
 * @module
 */

/** Content types of the files the pages use. */
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

/** A running server. */
export interface StaticServer {
  /** Its origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Serves `mounts` (URL prefix ending in `/` → directory) until closed. A
 * path ending in `/` serves its `index.html`; the longest matching prefix
 * wins; anything else is a 404 (and a request outside its mount, or with
 * `..` in it, a 400).
 *
 * @param mounts URL prefixes and the directories they serve.
 * @param options `port` (default 0: a free one) and `hostname` (default
 *   127.0.0.1).
 * @returns The server.
 */
export function serveStatic(
  mounts: Record<string, string>,
  options: { port?: number; hostname?: string } = {},
): StaticServer {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const p of prefixes) {
    if (!p.startsWith("/") || !p.endsWith("/")) {
      throw new RangeError(`A mount must start and end with "/", got "${p}"`);
    }
  }
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    onListen() {},
  }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.split("/").includes("..")) {
      return new Response("bad path\n", { status: 400 });
    }
    const prefix = prefixes.find((p) => path.startsWith(p));
    if (prefix === undefined) {
      return new Response("not found\n", { status: 404 });
    }
    let rel = path.slice(prefix.length);
    if (rel === "" || rel.endsWith("/")) rel += "index.html";
    const file = `${mounts[prefix].replace(/\/$/, "")}/${rel}`;
    try {
      const body = await Deno.readFile(file);
      const ext = rel.slice(rel.lastIndexOf("."));
      return new Response(body, {
        headers: {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          "cache-control": "no-store",
        },
      });
    } catch (e) {
      if (
        e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.IsADirectory
      ) {
        return new Response("not found\n", { status: 404 });
      }
      throw e;
    }
  });
  return {
    origin: `http://${server.addr.hostname}:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}
