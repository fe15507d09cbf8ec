/*
 * rampart.h: the C ABI of the Rampart engine (librampart_ffi.a, crate
 * adapters/ffi). Hand-written; adapters/ffi/tests/header.rs checks that it
 * declares exactly the functions the library exports, with the same number
 * of parameters, and that its constants match the library's.
 *
 * A server module holds one guard per process, created in the process that
 * serves requests (after any fork: the guard runs a background thread),
 * shared by all its threads. Per request: build a rampart_request, inspect
 * it, act on the rampart_decision, free both.
 *
 *     char err[512];
 *     rampart_guard *g = rampart_guard_new("/etc/rampart/node.toml", "apache",
 *                                          err, sizeof err);
 *     if (!g) { log(err); ... }
 *     rampart_request *r = rampart_request_new(rampart_body_limit(g));
 *     rampart_request_set_method(r, "GET", 3);
 *     rampart_request_set_target(r, uri, strlen(uri));
 *     rampart_request_add_header(r, "Host", 4, host, strlen(host));
 *     rampart_request_append_body(r, chunk, chunk_len);   // repeatedly
 *     rampart_request_set_client_ip(r, "192.0.2.1");
 *     rampart_decision *d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
 *     if (d && rampart_decision_action(d) == RAMPART_ACTION_BLOCK) {
 *         size_t n; const char *page = rampart_decision_body(d, &n);
 *         answer(rampart_decision_status(d),
 *                rampart_decision_content_type(d), page, n);
 *     }
 *     rampart_decision_free(d);
 *     rampart_request_free(r);
 *     ...
 *     rampart_guard_free(g);   // at process exit
 *
 * Rules of the ABI:
 *  - No function unwinds or aborts into the caller: a panic inside becomes
 *    the function's failure value (NULL, -1 or 0, as documented).
 *  - NULL is accepted for every pointer and means "nothing"; (pointer,
 *    length) pairs accept NULL only with length 0.
 *  - Request data (method, target, header names and values, body) is bytes,
 *    not necessarily UTF-8 or NUL-free. Paths and the client address are
 *    NUL-terminated UTF-8; anything else is refused.
 *  - Strings returned by a decision stay valid until that decision is freed.
 *  - A guard may be used by many threads at once; a request and a decision
 *    by one thread at a time.
 *
 * Link with: librampart_ffi.a -lpthread -ldl -lm (x86_64: the archive is
 * position-independent and can go into a shared object).
 */
#ifndef RAMPART_H
#define RAMPART_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes; compare with rampart_abi_version(). */
#define RAMPART_ABI_VERSION 1

/* mode_override of rampart_inspect and rampart_refuse_length; also what
 * rampart_guard_mode returns (never RAMPART_MODE_CONFIG). */
#define RAMPART_MODE_CONFIG 0  /* node.toml's mode */
#define RAMPART_MODE_BLOCK 1
#define RAMPART_MODE_MONITOR 2
#define RAMPART_MODE_OFF 3

/* rampart_decision_action */
#define RAMPART_ACTION_ALLOW 0   /* pass */
#define RAMPART_ACTION_BLOCK 1   /* answer with the status and the block page */
#define RAMPART_ACTION_MONITOR 2 /* pass; it would have been blocked (logged) */

/* rampart_over_limit: node.toml's [inspection] over_limit */
#define RAMPART_OVER_LIMIT_INSPECT_PREFIX 0 /* inspect the first body_limit bytes, pass the rest */
#define RAMPART_OVER_LIMIT_BLOCK 1          /* refuse bodies over body_limit with 413 */

typedef struct RampartGuard rampart_guard;
typedef struct RampartRequest rampart_request;
typedef struct RampartDecision rampart_decision;

/* ---- library ---------------------------------------------------------- */

/* The ABI version the library was built with (RAMPART_ABI_VERSION). */
uint32_t rampart_abi_version(void);

/* The library's version ("0.1.0"), a static string. */
const char *rampart_version(void);

/* Reads and validates a node.toml without starting anything (no thread, no
 * log file): for a master process before it forks. 0 when valid; -1 with
 * the reason in err (NUL-terminated, cut to errlen - 1 bytes). */
int rampart_config_check(const char *config_path, char *err, size_t errlen);

/* ---- guard: one per process ------------------------------------------- */

/* Starts a guard on a node.toml: engine, rules, rule pack, telemetry, cloud
 * sync, and one background thread; sets up the process's log (node.toml's
 * log_file and log_format) the first time. adapter names the server in the
 * log ("apache", "iis"; NULL: "ffi"). NULL on failure, with the reason in
 * err (NUL-terminated, cut to errlen - 1 bytes; err may be NULL). */
rampart_guard *rampart_guard_new(const char *config_path, const char *adapter,
                                 char *err, size_t errlen);

/* Stops the background thread (last telemetry window flushed within
 * node.toml's shutdown grace) and frees the guard. No thread may use the
 * guard during or after the call. NULL is ignored. */
void rampart_guard_free(rampart_guard *guard);

/* node.toml's mode: RAMPART_MODE_BLOCK, _MONITOR or _OFF; 0 for NULL. */
int rampart_guard_mode(const rampart_guard *guard);

/* node.toml's [inspection] body_limit in bytes; 0 for NULL. */
size_t rampart_body_limit(const rampart_guard *guard);

/* node.toml's [inspection] over_limit: RAMPART_OVER_LIMIT_*; -1 for NULL. */
int rampart_over_limit(const rampart_guard *guard);

/* ---- request builder --------------------------------------------------- */

/* A new, empty request whose body keeps at most body_limit bytes (usually
 * rampart_body_limit(guard)). NULL only when memory ran out. */
rampart_request *rampart_request_new(size_t body_limit);

/* Frees a request. NULL is ignored. */
void rampart_request_free(rampart_request *req);

/* The method (GET, POST...). 0, or -1 for NULL arguments. */
int rampart_request_set_method(rampart_request *req, const char *method, size_t len);

/* The request-target as on the request line ("/path?query"). 0 or -1. */
int rampart_request_set_target(rampart_request *req, const char *target, size_t len);

/* Adds one header; a repeated header is added once per occurrence, in
 * order. 0, or -1 for NULL arguments. */
int rampart_request_add_header(rampart_request *req, const char *name, size_t name_len,
                               const char *value, size_t value_len);

/* Appends a body chunk. Bytes past the body limit are not kept and mark the
 * body truncated. Returns the number of bytes kept (0 for NULL). */
size_t rampart_request_append_body(rampart_request *req, const char *data, size_t len);

/* Marks the body as longer than what was appended (non-zero) or not (0),
 * for a server that stopped reading at the limit by itself. */
void rampart_request_set_truncated(rampart_request *req, int truncated);

/* Bytes of body kept so far; 0 for NULL. */
size_t rampart_request_body_len(const rampart_request *req);

/* The client address as text ("192.0.2.1", "2001:db8::1"). 0, or -1 when
 * NULL, not UTF-8 or not an address (the request then keeps none). */
int rampart_request_set_client_ip(rampart_request *req, const char *ip);

/* ---- verdicts ---------------------------------------------------------- */

/* Before reading a body: with over_limit = block and declared (the
 * Content-Length; negative: unknown) above req's body limit (the guard's
 * when req is NULL), a decision that blocks with 413 and its page (chosen by
 * req's Accept header). NULL: go on and read the body. Also NULL in mode off
 * and for a NULL guard. */
rampart_decision *rampart_refuse_length(const rampart_guard *guard, const rampart_request *req,
                                        int64_t declared, int mode_override);

/* Inspects a request. mode_override: RAMPART_MODE_CONFIG for node.toml's
 * mode, or RAMPART_MODE_BLOCK, _MONITOR, _OFF (a per-location mode). A body
 * marked truncated with over_limit = block gives a 413 decision. The verdict
 * is logged (node.toml's log) and counted. Returns a decision to free with
 * rampart_decision_free; NULL only for NULL arguments or an internal
 * failure, which the caller handles by its own fail mode. */
rampart_decision *rampart_inspect(const rampart_guard *guard, const rampart_request *req,
                                  int mode_override);

/* Optional, once per decision, when the response status is known: runs the
 * response-phase rules and counts the request in the traffic aggregates.
 * Returns RAMPART_ACTION_BLOCK when the response should be replaced by the
 * block page, else the decision's action; -1 for NULL arguments. */
int rampart_finish(const rampart_guard *guard, rampart_decision *decision, int response_status);

/* Frees a decision and the strings it returned. NULL is ignored. */
void rampart_decision_free(rampart_decision *decision);

/* RAMPART_ACTION_ALLOW, _BLOCK or _MONITOR; -1 for NULL. */
int rampart_decision_action(const rampart_decision *decision);

/* The status to answer with when blocking (403; 413 for a body over the
 * limit; 503 for a failed inspection with on_plugin_error = closed); 200
 * when the request passes; 0 for NULL. */
int rampart_decision_status(const rampart_decision *decision);

/* The summed score of the deciding attack class; 0 for NULL. */
uint32_t rampart_decision_score(const rampart_decision *decision);

/* The attack class that decided ("sqli", "xss"...), or NULL. */
const char *rampart_decision_class(const rampart_decision *decision);

/* The rule or detector that decided, or NULL. */
const char *rampart_decision_rule(const rampart_decision *decision);

/* The request point that decided ("query.id"...), or NULL. */
const char *rampart_decision_point(const rampart_decision *decision);

/* The request id, as in the log and on the block page ("" in mode off);
 * NULL for NULL. */
const char *rampart_decision_request_id(const rampart_decision *decision);

/* A stable code: "allowed", "blocked", "body_too_large",
 * "inspection_failed"; NULL for NULL. */
const char *rampart_decision_reason(const rampart_decision *decision);

/* The block page's body, len bytes (not NUL-terminated; len may be NULL):
 * JSON, or HTML when the request's Accept prefers it. Length 0 unless the
 * decision blocks; NULL for NULL. */
const char *rampart_decision_body(const rampart_decision *decision, size_t *len);

/* The block page's content type ("application/json",
 * "text/html; charset=utf-8"); "" unless the decision blocks. */
const char *rampart_decision_content_type(const rampart_decision *decision);

#ifdef __cplusplus
}
#endif

#endif /* RAMPART_H */
