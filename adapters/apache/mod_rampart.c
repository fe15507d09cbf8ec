/*
 * mod_rampart: the Rampart WAF inside Apache httpd 2.4.
 *
 * The engine is Rust (adapters/ffi, librampart_ffi.a, linked statically
 * into this module) behind the C ABI of rampart.h: the same engine,
 * node.toml, rules, rule packs and cloud sync as the Rampart proxy node.
 *
 * Directives
 *   RampartConfig /etc/rampart/node.toml   server, virtual host
 *   Rampart On|Off                         server, virtual host, directory/location
 *   RampartMode block|monitor|off          server, virtual host, directory/location
 *   RampartBodyLimit BYTES                 server, virtual host, directory/location
 *   RampartFailMode closed|open            server, virtual host, directory/location
 *
 * Life cycle. The master process only checks node.toml (post_config, no
 * thread started). Each child process starts one guard per distinct
 * RampartConfig in the child_init hook (the guard's background thread
 * would not survive a fork) and frees it when the child exits.
 *
 * Request path. The access_checker hook (run first) builds the request
 * (method, unparsed URI, headers in order, client address), refuses a
 * declared Content-Length over the limit when node.toml says
 * over_limit = "block", reads the body through the input filters up to the
 * limit (plus one byte, to know whether there is more), inspects, and
 * either answers with the decision's status and block page or lets the
 * request go on. The body it read is kept in a brigade and handed back to
 * the handler by the RAMPART_REPLAY input filter, so that mod_proxy (or
 * any handler) reads the complete body, byte for byte; past the limit the
 * rest is read from the client as usual, never buffered here.
 *
 * Why access_checker: it is the first hook that runs after the per-directory
 * configuration is merged (so <Location> can switch Rampart on or off) and
 * before authentication, authorization and the handler, so an attack never
 * reaches an authentication provider (LDAP, a database) or the application.
 * Subrequests and internal redirects are not inspected again: the request
 * they come from was. An internal redirect (mod_rewrite in a directory
 * context, ErrorDocument) gets what is left of the kept body from the
 * insert_filter hook.
 */

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "ap_mpm.h"

#include "apr_buckets.h"
#include "apr_strings.h"

#include "rampart.h"

#include <string.h>
#include <unistd.h>

module AP_MODULE_DECLARE_DATA rampart_module;

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(rampart);
#endif

#define RAMPART_UNSET (-1)
/* Bytes asked from the input filters per read while buffering the body. */
#define RAMPART_READ_CHUNK 65536

typedef struct {
    int enabled;            /* RAMPART_UNSET, 0, 1 */
    int mode;               /* RAMPART_UNSET or RAMPART_MODE_* */
    apr_off_t body_limit;   /* RAMPART_UNSET: node.toml's */
    int fail_open;          /* RAMPART_UNSET, 0 (closed), 1 (open) */
} rampart_dir_conf;

typedef struct {
    const char *config_path;  /* RampartConfig, absolute */
    rampart_guard *guard;     /* set in the child process only */
    const char *guard_error;  /* why the child has no guard */
} rampart_srv_conf;

/* Per request: the decision, kept for the log_transaction hook. */
typedef struct {
    rampart_guard *guard;
    rampart_decision *decision;
    apr_bucket_brigade *kept;  /* the body read for the inspection, until replayed */
} rampart_req_state;

static ap_filter_rec_t *rampart_replay_handle;

/* ---- configuration ---------------------------------------------------- */

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    rampart_dir_conf *c = apr_pcalloc(p, sizeof *c);
    (void)dir;
    c->enabled = RAMPART_UNSET;
    c->mode = RAMPART_UNSET;
    c->body_limit = RAMPART_UNSET;
    c->fail_open = RAMPART_UNSET;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    rampart_dir_conf *base = basev, *add = addv;
    rampart_dir_conf *c = apr_pcalloc(p, sizeof *c);
    c->enabled = add->enabled != RAMPART_UNSET ? add->enabled : base->enabled;
    c->mode = add->mode != RAMPART_UNSET ? add->mode : base->mode;
    c->body_limit = add->body_limit != RAMPART_UNSET ? add->body_limit : base->body_limit;
    c->fail_open = add->fail_open != RAMPART_UNSET ? add->fail_open : base->fail_open;
    return c;
}

static void *create_srv_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(rampart_srv_conf));
}

static void *merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    rampart_srv_conf *base = basev, *add = addv;
    rampart_srv_conf *c = apr_pcalloc(p, sizeof *c);
    c->config_path = add->config_path ? add->config_path : base->config_path;
    return c;
}

static const char *set_enabled(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((rampart_dir_conf *)dconf)->enabled = on ? 1 : 0;
    return NULL;
}

static const char *set_mode(cmd_parms *cmd, void *dconf, const char *arg)
{
    rampart_dir_conf *c = dconf;
    (void)cmd;
    if (!strcasecmp(arg, "block")) {
        c->mode = RAMPART_MODE_BLOCK;
    }
    else if (!strcasecmp(arg, "monitor")) {
        c->mode = RAMPART_MODE_MONITOR;
    }
    else if (!strcasecmp(arg, "off")) {
        c->mode = RAMPART_MODE_OFF;
    }
    else {
        return "RampartMode: expected block, monitor or off";
    }
    return NULL;
}

static const char *set_fail_mode(cmd_parms *cmd, void *dconf, const char *arg)
{
    rampart_dir_conf *c = dconf;
    (void)cmd;
    if (!strcasecmp(arg, "open")) {
        c->fail_open = 1;
    }
    else if (!strcasecmp(arg, "closed")) {
        c->fail_open = 0;
    }
    else {
        return "RampartFailMode: expected closed or open";
    }
    return NULL;
}

static const char *set_body_limit(cmd_parms *cmd, void *dconf, const char *arg)
{
    rampart_dir_conf *c = dconf;
    char *end = NULL;
    apr_off_t n;
    (void)cmd;
    if (apr_strtoff(&n, arg, &end, 10) != APR_SUCCESS || !end || *end || n <= 0) {
        return "RampartBodyLimit: expected a number of bytes greater than 0";
    }
    c->body_limit = n;
    return NULL;
}

static const char *set_config(cmd_parms *cmd, void *dconf, const char *arg)
{
    rampart_srv_conf *c = ap_get_module_config(cmd->server->module_config, &rampart_module);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    (void)dconf;
    if (!path) {
        return apr_pstrcat(cmd->pool, "RampartConfig: invalid path ", arg, NULL);
    }
    c->config_path = path;
    return NULL;
}

static const command_rec rampart_cmds[] = {
    AP_INIT_TAKE1("RampartConfig", set_config, NULL, RSRC_CONF,
                  "the Rampart node.toml (engine, rules, rule pack, log, cloud)"),
    AP_INIT_FLAG("Rampart", set_enabled, NULL, RSRC_CONF | ACCESS_CONF,
                 "On to inspect requests with Rampart, Off not to"),
    AP_INIT_TAKE1("RampartMode", set_mode, NULL, RSRC_CONF | ACCESS_CONF,
                  "block, monitor or off; node.toml's mode when absent"),
    AP_INIT_TAKE1("RampartBodyLimit", set_body_limit, NULL, RSRC_CONF | ACCESS_CONF,
                  "bytes of a request body inspected; node.toml's body_limit when absent"),
    AP_INIT_TAKE1("RampartFailMode", set_fail_mode, NULL, RSRC_CONF | ACCESS_CONF,
                  "closed (503, the default) or open (pass) when no guard could start"),
    {NULL}
};

/* ---- master: check the configuration ----------------------------------- */

static int rampart_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    server_rec *v;
    char err[1024];
    (void)pconf;
    (void)plog;
    (void)ptemp;

    if (rampart_abi_version() != RAMPART_ABI_VERSION) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "rampart: library ABI %u, module built for %d: rebuild mod_rampart",
                     rampart_abi_version(), RAMPART_ABI_VERSION);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (v = s; v; v = v->next) {
        rampart_srv_conf *c = ap_get_module_config(v->module_config, &rampart_module);
        if (!c->config_path) {
            continue;
        }
        /* Parses and validates only: no thread may exist before the fork. */
        if (rampart_config_check(c->config_path, err, sizeof err) != 0) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, v, "rampart: RampartConfig %s: %s",
                         c->config_path, err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    ap_add_version_component(pconf, apr_pstrcat(ptemp, "rampart/", rampart_version(), NULL));
    return OK;
}

/* ---- child: one guard per distinct node.toml ---------------------------- */

static apr_status_t free_guard(void *g)
{
    rampart_guard_free(g);
    return APR_SUCCESS;
}

static void rampart_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *v, *w;
    char err[1024];

    for (v = s; v; v = v->next) {
        rampart_srv_conf *c = ap_get_module_config(v->module_config, &rampart_module);
        if (!c->config_path || c->guard || c->guard_error) {
            continue;
        }
        c->guard = rampart_guard_new(c->config_path, "apache", err, sizeof err);
        if (c->guard) {
            apr_pool_cleanup_register(pchild, c->guard, free_guard, apr_pool_cleanup_null);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, v,
                         "rampart: guard started on %s (pid %" APR_PID_T_FMT ")",
                         c->config_path, getpid());
        }
        else {
            c->guard_error = apr_pstrdup(pchild, err);
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                         "rampart: cannot start the guard on %s: %s", c->config_path, err);
        }
        /* Every later server with the same node.toml shares this guard. */
        for (w = v->next; w; w = w->next) {
            rampart_srv_conf *o = ap_get_module_config(w->module_config, &rampart_module);
            if (o->config_path && !o->guard && !o->guard_error
                && !strcmp(o->config_path, c->config_path)) {
                o->guard = c->guard;
                o->guard_error = c->guard_error;
            }
        }
    }
}

/* ---- the body kept for the handler --------------------------------------- */

/* Hands the buffered body to whoever reads the request body after the
 * inspection, then steps aside: the rest (if any) comes from below. */
static apr_status_t rampart_replay_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                          ap_input_mode_t mode, apr_read_type_e block,
                                          apr_off_t readbytes)
{
    apr_bucket_brigade *kept = f->ctx;
    apr_bucket *b, *after;
    apr_status_t rv;

    if (!kept || APR_BRIGADE_EMPTY(kept)) {
        ap_remove_input_filter(f);
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    switch (mode) {
    case AP_MODE_READBYTES:
    case AP_MODE_SPECULATIVE:
        if (readbytes <= 0) {
            readbytes = RAMPART_READ_CHUNK;
        }
        rv = apr_brigade_partition(kept, readbytes, &after);
        if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
            return rv;
        }
        if (mode == AP_MODE_SPECULATIVE) {
            for (b = APR_BRIGADE_FIRST(kept); b != after; b = APR_BUCKET_NEXT(b)) {
                apr_bucket *copy;
                rv = apr_bucket_copy(b, &copy);
                if (rv != APR_SUCCESS) {
                    return rv;
                }
                APR_BRIGADE_INSERT_TAIL(bb, copy);
            }
        }
        else {
            while ((b = APR_BRIGADE_FIRST(kept)) != after) {
                APR_BUCKET_REMOVE(b);
                APR_BRIGADE_INSERT_TAIL(bb, b);
            }
        }
        return APR_SUCCESS;
    case AP_MODE_GETLINE: {
        apr_bucket_brigade *line = apr_brigade_create(f->r->pool, f->c->bucket_alloc);
        rv = apr_brigade_split_line(line, kept, block, HUGE_STRING_LEN);
        APR_BRIGADE_CONCAT(bb, line);
        return rv;
    }
    case AP_MODE_EXHAUSTIVE:
        APR_BRIGADE_CONCAT(bb, kept);
        return APR_SUCCESS;
    default: /* AP_MODE_EATCRLF, AP_MODE_INIT: nothing of the body */
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
}

/* Puts the replay filter right above HTTP_IN. It is a request-level filter
 * (AP_FTYPE_PROTOCOL - 1): a protocol filter added now would go below
 * HTTP_IN. Internal redirects drop request-level filters: the insert_filter
 * hook adds it again to the redirected request. */
static void add_replay_filter(request_rec *r, apr_bucket_brigade *kept)
{
    ap_add_input_filter_handle(rampart_replay_handle, kept, r, r->connection);
}

/* Reads the body into `req` (at most `limit` bytes kept there) and into
 * `kept` (every bucket read, for the replay). Stops at the end of the body
 * or once more than `limit` bytes were read. OK, or an HTTP status. */
static int read_body(request_rec *r, rampart_request *req, apr_off_t limit,
                     apr_bucket_brigade *kept)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_off_t seen = 0;
    int eos = 0;

    while (!eos && seen <= limit) {
        apr_off_t want = limit + 1 - seen;
        apr_bucket *b;
        apr_status_t rv;

        if (want > RAMPART_READ_CHUNK) {
            want = RAMPART_READ_CHUNK;
        }
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ, want);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, "rampart: reading the request body failed");
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        if (APR_BRIGADE_EMPTY(bb)) {
            /* A blocking read that returns nothing: the client is gone. */
            return HTTP_BAD_REQUEST;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(b)) {
                eos = 1;
                continue;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
            }
            rampart_request_append_body(req, data, len);
            seen += (apr_off_t)len;
            /* Transient buckets point into memory that the next read
             * reuses: copy them into the request's pool. */
            rv = apr_bucket_setaside(b, r->pool);
            if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        APR_BRIGADE_CONCAT(kept, bb);
    }
    if (seen > limit) {
        rampart_request_set_truncated(req, 1);
    }
    return OK;
}

/* ---- the request ---------------------------------------------------------- */

static apr_status_t free_request(void *p)
{
    rampart_request_free(p);
    return APR_SUCCESS;
}

static apr_status_t free_decision(void *p)
{
    rampart_decision_free(p);
    return APR_SUCCESS;
}

static int add_header(void *req, const char *name, const char *value)
{
    rampart_request_add_header(req, name, strlen(name), value, value ? strlen(value) : 0);
    return 1;
}

/* The Content-Length the client declared; -1 when none (or chunked). */
static apr_off_t declared_length(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    char *end = NULL;
    apr_off_t n;
    if (apr_table_get(r->headers_in, "Transfer-Encoding") || !cl) {
        return -1;
    }
    if (apr_strtoff(&n, cl, &end, 10) != APR_SUCCESS || !end || *end || n < 0) {
        return -1;
    }
    return n;
}

/* Answers with the decision's status and block page. DONE: the response is
 * complete and no later phase runs. */
static int answer_block(request_rec *r, rampart_decision *d, int body_fully_read)
{
    size_t n = 0;
    const char *page = rampart_decision_body(d, &n);
    const char *ctype = rampart_decision_content_type(d);
    const char *id = rampart_decision_request_id(d);
    int status = rampart_decision_status(d);

    if (status < 400 || status > 599) {
        status = HTTP_FORBIDDEN;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "rampart: %d %s class=%s rule=%s point=%s request_id=%s", status,
                  rampart_decision_reason(d), rampart_decision_class(d) ? rampart_decision_class(d) : "-",
                  rampart_decision_rule(d) ? rampart_decision_rule(d) : "-",
                  rampart_decision_point(d) ? rampart_decision_point(d) : "-", id ? id : "-");
    r->status = status;
    if (!body_fully_read) {
        /* The rest of the body is still on the connection: do not read it
         * just to keep the connection alive. */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    apr_table_clear(r->headers_out);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (id && *id) {
        apr_table_set(r->headers_out, "X-Request-Id", id);
    }
    ap_set_content_type(r, apr_pstrdup(r->pool, ctype && *ctype ? ctype : "application/json"));
    ap_set_content_length(r, (apr_off_t)n);
    if (!r->header_only && page && n) {
        ap_rwrite(page, (int)n, r);
    }
    return DONE;
}

/* No guard, or no decision: the fail mode says what happens. */
static int fail(request_rec *r, const rampart_dir_conf *dc, const char *why)
{
    if (dc->fail_open == 1) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "rampart: %s; passed (RampartFailMode open)", why);
        apr_table_setn(r->subprocess_env, "RAMPART_ACTION", "unchecked");
        return DECLINED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "rampart: %s; refused (RampartFailMode closed)", why);
    return HTTP_SERVICE_UNAVAILABLE;
}

static rampart_req_state *req_state(request_rec *r, rampart_guard *g)
{
    rampart_req_state *st = ap_get_module_config(r->request_config, &rampart_module);
    if (!st) {
        st = apr_pcalloc(r->pool, sizeof *st);
        st->guard = g;
        ap_set_module_config(r->request_config, &rampart_module, st);
    }
    return st;
}

static void keep_decision(request_rec *r, rampart_guard *g, rampart_decision *d)
{
    rampart_req_state *st = req_state(r, g);
    const char *id = rampart_decision_request_id(d);
    const char *action;

    switch (rampart_decision_action(d)) {
    case RAMPART_ACTION_BLOCK:
        action = "block";
        break;
    case RAMPART_ACTION_MONITOR:
        action = "monitor";
        break;
    default:
        action = "allow";
        break;
    }
    /* For LogFormat: %{RAMPART_ACTION}e %{RAMPART_REQUEST_ID}e */
    apr_table_setn(r->subprocess_env, "RAMPART_ACTION", action);
    if (id && *id) {
        apr_table_set(r->subprocess_env, "RAMPART_REQUEST_ID", id);
    }
    st->decision = d;
    apr_pool_cleanup_register(r->pool, d, free_decision, apr_pool_cleanup_null);
}

static int rampart_access(request_rec *r)
{
    rampart_dir_conf *dc;
    rampart_srv_conf *sc;
    rampart_guard *g;
    rampart_request *req;
    rampart_decision *d;
    apr_bucket_brigade *kept;
    apr_off_t limit;
    int mode, rc, fully_read = 1;

    if (r->main || r->prev) {
        return DECLINED; /* a subrequest or an internal redirect */
    }
    dc = ap_get_module_config(r->per_dir_config, &rampart_module);
    if (dc->enabled != 1) {
        return DECLINED;
    }
    mode = dc->mode == RAMPART_UNSET ? RAMPART_MODE_CONFIG : dc->mode;
    if (mode == RAMPART_MODE_OFF) {
        return DECLINED;
    }
    sc = ap_get_module_config(r->server->module_config, &rampart_module);
    g = sc->guard;
    if (!g) {
        return fail(r, dc,
                    sc->config_path ? apr_pstrcat(r->pool, "no guard: ", sc->guard_error ? sc->guard_error : "not started", NULL)
                                    : "Rampart On without RampartConfig");
    }
    if (rampart_guard_mode(g) == RAMPART_MODE_OFF && mode == RAMPART_MODE_CONFIG) {
        return DECLINED;
    }

    limit = dc->body_limit != RAMPART_UNSET ? dc->body_limit : (apr_off_t)rampart_body_limit(g);
    req = rampart_request_new((size_t)limit);
    if (!req) {
        return fail(r, dc, "out of memory");
    }
    apr_pool_cleanup_register(r->pool, req, free_request, apr_pool_cleanup_null);
    rampart_request_set_method(req, r->method, strlen(r->method));
    if (r->unparsed_uri) {
        rampart_request_set_target(req, r->unparsed_uri, strlen(r->unparsed_uri));
    }
    apr_table_do(add_header, req, r->headers_in, NULL);
    if (r->useragent_ip) {
        rampart_request_set_client_ip(req, r->useragent_ip);
    }

    /* A declared length over the limit, with over_limit = "block": 413
     * before a byte of the body is read. */
    d = rampart_refuse_length(g, req, (int64_t)declared_length(r), mode);
    if (d) {
        keep_decision(r, g, d);
        return answer_block(r, d, 0);
    }

    if (ap_request_has_body(r)) {
        kept = apr_brigade_create(r->pool, r->connection->bucket_alloc);
        rc = read_body(r, req, limit, kept);
        if (rc != OK) {
            return rc;
        }
        if (!APR_BRIGADE_EMPTY(kept)) {
            req_state(r, g)->kept = kept;
            add_replay_filter(r, kept);
        }
        fully_read = !APR_BRIGADE_EMPTY(kept) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(kept));
    }

    d = rampart_inspect(g, req, mode);
    if (!d) {
        return fail(r, dc, "the inspection failed");
    }
    keep_decision(r, g, d);
    if (rampart_decision_action(d) == RAMPART_ACTION_BLOCK) {
        return answer_block(r, d, fully_read);
    }
    return DECLINED;
}

/* An internal redirect (mod_rewrite in a directory context, ErrorDocument)
 * gets a new request whose input filters are the protocol ones: give it
 * what is left of the kept body. */
static void rampart_insert_filter(request_rec *r)
{
    request_rec *first = r;
    rampart_req_state *st;

    if (!r->prev || r->main) {
        return;
    }
    while (first->prev) {
        first = first->prev;
    }
    st = ap_get_module_config(first->request_config, &rampart_module);
    if (st && st->kept && !APR_BRIGADE_EMPTY(st->kept)) {
        add_replay_filter(r, st->kept);
    }
}

/* The response status is known: response-phase rules and the traffic
 * aggregates. */
static int rampart_log(request_rec *r)
{
    rampart_req_state *st = ap_get_module_config(r->request_config, &rampart_module);
    request_rec *last = r;
    if (!st || !st->decision) {
        return DECLINED;
    }
    while (last->next) {
        last = last->next;
    }
    rampart_finish(st->guard, st->decision, last->status);
    return DECLINED;
}

static void rampart_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(rampart_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(rampart_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_access_checker(rampart_access, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_insert_filter(rampart_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(rampart_log, NULL, NULL, APR_HOOK_MIDDLE);
    /* The last request-level type: right above HTTP_IN (a protocol filter)
     * and below any content filter (DEFLATE...) added later, which then
     * reads the replayed body as it would have read the client's. */
    rampart_replay_handle = ap_register_input_filter("RAMPART_REPLAY", rampart_replay_filter,
                                                     NULL, AP_FTYPE_PROTOCOL - 1);
}

module AP_MODULE_DECLARE_DATA rampart_module = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_srv_conf,
    merge_srv_conf,
    rampart_cmds,
    rampart_register_hooks
};
