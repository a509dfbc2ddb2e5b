/*
 * udp_mmsg: UDP receive for the collector's hot path, batched with recvmmsg(2).
 *
 * Node 20's dgram hands JavaScript one datagram per callback, each in a freshly allocated Buffer with a
 * fresh rinfo object (~5 µs a datagram on a bare socket). Here a socket is polled on the calling thread's
 * libuv loop; when it is readable, up to SLOTS datagrams are read with one recvmmsg call straight into one
 * ArrayBuffer that JavaScript owns and reads in place, and JavaScript is called once per call with the count.
 *
 *   open(family 4|6, address, port, recvBufferBytes, reusePort) -> [fd, boundPort, grantedRecvBuffer]
 *   start(fd, data, meta, onBatch(n), coalesceMs, ownsFd) -> receiver   (n < 0: -errno, fatal)
 *   stop(receiver)                                        (stops polling; closes the fd if it owns it)
 *
 * A receiver may poll an fd another thread opened (ownsFd false: a decode worker reading the socket the
 * main thread bound). When its thread ends first (a worker terminated), an async cleanup hook closes its
 * libuv handles before the loop is closed.
 *   close(fd)                                                       (an fd never started)
 *   copy(dst: Uint8Array, dstOffset, src: Uint8Array) -> bytes     (memcpy, also into SharedArrayBuffers,
 *                                                                  where TypedArray.set copies with relaxed atomics, several times slower)
 *
 * data holds SLOTS slots of SLOT_BYTES (datagram i at i * SLOT_BYTES); meta holds SLOTS records of
 * META_BYTES: u32 length | u8 flags (1 = truncated) | u8 family (4|6) | u16 port | u32 IPv4 (host order)
 * | 16 bytes of the IPv6 address. Everything is only valid during the onBatch call.
 *
 * Coalescing: once the socket is drained, polling pauses for coalesceMs (0: never), so that at moderate rates
 * the datagrams of a millisecond are read by one wake-up, one system call and one JavaScript call instead of
 * one each (a paced exporter otherwise wakes the thread per datagram). The socket buffer holds them meanwhile.
 *
 * Apache-2.0. Linux only (recvmmsg, SO_REUSEPORT, SO_RCVBUFFORCE).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8 /* napi_add_async_cleanup_hook */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#define SLOTS 64
#define SLOT_BYTES 65536
#define META_BYTES 32
/* recvmmsg calls per readable event before the loop gets a turn (the poll is level-triggered). */
#define MAX_ROUNDS 16

typedef struct {
  uv_poll_t poll;
  uv_timer_t timer;
  int closing; /* handles still to be closed */
  int fd;
  int owns_fd;
  int stopped;
  uint64_t coalesce_ms;
  napi_async_cleanup_hook_handle cleanup;
  napi_env env;
  napi_ref on_batch;
  napi_ref data_ref;
  napi_ref meta_ref;
  napi_async_context async;
  uint8_t *data;
  uint8_t *meta;
  struct mmsghdr msgs[SLOTS];
  struct iovec iov[SLOTS];
  struct sockaddr_storage from[SLOTS];
} receiver_t;

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ESOCKET";
  napi_throw_error(env, code, msg);
  return NULL;
}

#define CHECK(call)                                                                                     \
  do {                                                                                                  \
    if ((call) != napi_ok) {                                                                            \
      napi_throw_error(env, NULL, "udp_mmsg: " #call " failed");                                        \
      return NULL;                                                                                      \
    }                                                                                                   \
  } while (0)

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "open(family, address, port, recvBufferBytes, reusePort)");
    return NULL;
  }
  int32_t family, port, rcvbuf;
  bool reuse;
  char addr[64];
  size_t alen;
  CHECK(napi_get_value_int32(env, argv[0], &family));
  CHECK(napi_get_value_string_latin1(env, argv[1], addr, sizeof addr, &alen));
  CHECK(napi_get_value_int32(env, argv[2], &port));
  CHECK(napi_get_value_int32(env, argv[3], &rcvbuf));
  CHECK(napi_get_value_bool(env, argv[4], &reuse));

  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) return throw_errno(env, EINVAL, "bad IPv6 address");
    sl = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) return throw_errno(env, EINVAL, "bad IPv4 address");
    sl = sizeof *a;
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int one = 1, zero = 0;
  /* As Node's udp6 socket: dual-stack (IPv4 senders appear IPv4-mapped). */
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "SO_REUSEPORT");
  }
  /* SO_RCVBUFFORCE (CAP_NET_ADMIN) may exceed net.core.rmem_max; without the capability, SO_RCVBUF. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    char what[96];
    snprintf(what, sizeof what, "bind %s:%d", addr, port);
    close(fd);
    return throw_errno(env, e, what);
  }
  struct sockaddr_storage bound;
  socklen_t bl = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bl);
  int bport = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
  int granted = 0;
  socklen_t gl = sizeof granted;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &gl);

  napi_value out, v;
  CHECK(napi_create_array_with_length(env, 3, &out));
  CHECK(napi_create_int32(env, fd, &v));
  CHECK(napi_set_element(env, out, 0, v));
  CHECK(napi_create_int32(env, bport, &v));
  CHECK(napi_set_element(env, out, 1, v));
  CHECK(napi_create_int32(env, granted, &v));
  CHECK(napi_set_element(env, out, 2, v));
  return out;
}

static void call_js(receiver_t *r, int n) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, r->on_batch, &cb);
  napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
  napi_create_int32(env, n, &arg);
  if (napi_make_callback(env, r->async, recv, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events);

static void on_timer(uv_timer_t *t) {
  receiver_t *r = (receiver_t *)t->data;
  if (!r->stopped) uv_poll_start(&r->poll, UV_READABLE, on_readable);
}

/* Drained: pause polling for coalesce_ms, if set. */
static void drained(receiver_t *r) {
  if (r->stopped || r->coalesce_ms == 0) return;
  uv_poll_stop(&r->poll);
  uv_timer_start(&r->timer, on_timer, r->coalesce_ms, 0);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  receiver_t *r = (receiver_t *)h->data;
  (void)events;
  if (r->stopped) return;
  if (status < 0) {
    call_js(r, status); /* libuv statuses are -errno */
    return;
  }
  for (int round = 0; round < MAX_ROUNDS && !r->stopped; round++) {
    for (int i = 0; i < SLOTS; i++) {
      r->msgs[i].msg_hdr.msg_namelen = sizeof r->from[i];
      r->msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(r->fd, r->msgs, SLOTS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) call_js(r, -errno);
      else drained(r);
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      uint8_t *m = r->meta + i * META_BYTES;
      uint32_t len = r->msgs[i].msg_len;
      uint8_t flags = (r->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
      memcpy(m, &len, 4);
      m[4] = flags;
      struct sockaddr_storage *f = &r->from[i];
      if (f->ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)f;
        uint16_t p = ntohs(a->sin6_port);
        m[5] = 6;
        memcpy(m + 6, &p, 2);
        memset(m + 8, 0, 4);
        memcpy(m + 12, &a->sin6_addr, 16);
      } else {
        struct sockaddr_in *a = (struct sockaddr_in *)f;
        uint16_t p = ntohs(a->sin_port);
        uint32_t v4 = ntohl(a->sin_addr.s_addr);
        m[5] = 4;
        memcpy(m + 6, &p, 2);
        memcpy(m + 8, &v4, 4);
        memset(m + 12, 0, 16);
      }
    }
    call_js(r, n);
    if (n < SLOTS) {
      drained(r);
      return;
    }
  }
}

static void on_closed(uv_handle_t *h) {
  receiver_t *r = (receiver_t *)h->data;
  if (--r->closing > 0) return;
  napi_delete_reference(r->env, r->on_batch);
  napi_delete_reference(r->env, r->data_ref);
  napi_delete_reference(r->env, r->meta_ref);
  napi_async_destroy(r->env, r->async);
  if (r->cleanup) napi_remove_async_cleanup_hook(r->cleanup);
  free(r);
}

/* Stops polling and closes the handles (r is freed in the last close callback). Idempotent. */
static void teardown(receiver_t *r) {
  if (r->stopped) return;
  r->stopped = 1;
  /* uv_poll_stop takes the fd out of epoll, so it can be closed now: the port is free when stop returns
     (a re-bind right after must not meet EADDRINUSE). */
  uv_poll_stop(&r->poll);
  uv_timer_stop(&r->timer);
  if (r->owns_fd) close(r->fd);
  r->fd = -1;
  uv_close((uv_handle_t *)&r->poll, on_closed);
  uv_close((uv_handle_t *)&r->timer, on_closed);
}

static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  teardown((receiver_t *)arg);
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  bool owns;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "start(fd, data, meta, onBatch, coalesceMs, ownsFd)");
    return NULL;
  }
  CHECK(napi_get_value_bool(env, argv[5], &owns));
  int32_t fd, coalesce;
  void *data, *meta;
  size_t dlen, mlen;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_arraybuffer_info(env, argv[1], &data, &dlen));
  CHECK(napi_get_arraybuffer_info(env, argv[2], &meta, &mlen));
  CHECK(napi_get_value_int32(env, argv[4], &coalesce));
  if (dlen < (size_t)SLOTS * SLOT_BYTES || mlen < (size_t)SLOTS * META_BYTES) {
    napi_throw_range_error(env, NULL, "start: data or meta buffer too small");
    return NULL;
  }
  receiver_t *r = calloc(1, sizeof *r);
  if (!r) return throw_errno(env, ENOMEM, "start");
  r->fd = fd;
  r->owns_fd = owns;
  r->coalesce_ms = coalesce > 0 ? (uint64_t)coalesce : 0;
  r->env = env;
  r->data = data;
  r->meta = meta;
  for (int i = 0; i < SLOTS; i++) {
    r->iov[i].iov_base = r->data + (size_t)i * SLOT_BYTES;
    r->iov[i].iov_len = SLOT_BYTES;
    r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
    r->msgs[i].msg_hdr.msg_iovlen = 1;
    r->msgs[i].msg_hdr.msg_name = &r->from[i];
  }
  napi_value name;
  CHECK(napi_create_reference(env, argv[3], 1, &r->on_batch));
  CHECK(napi_create_reference(env, argv[1], 1, &r->data_ref));
  CHECK(napi_create_reference(env, argv[2], 1, &r->meta_ref));
  CHECK(napi_create_string_utf8(env, "flowmesh:udp-mmsg", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &r->async));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int e = uv_poll_init(loop, &r->poll, fd);
  if (e != 0) {
    /* Nothing of libuv's to undo: release ours (and the fd, if it was handed over). */
    napi_delete_reference(env, r->on_batch);
    napi_delete_reference(env, r->data_ref);
    napi_delete_reference(env, r->meta_ref);
    napi_async_destroy(env, r->async);
    if (owns) close(fd);
    free(r);
    napi_throw_error(env, NULL, uv_strerror(e));
    return NULL;
  }
  r->poll.data = r;
  uv_timer_init(loop, &r->timer); /* cannot fail */
  r->timer.data = r;
  r->closing = 2;
  e = uv_poll_start(&r->poll, UV_READABLE, on_readable);
  if (e != 0) {
    teardown(r);
    napi_throw_error(env, NULL, uv_strerror(e));
    return NULL;
  }
  napi_add_async_cleanup_hook(env, on_env_teardown, r, &r->cleanup);
  napi_value ext;
  CHECK(napi_create_external(env, r, NULL, NULL, &ext));
  return ext;
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  receiver_t *r;
  CHECK(napi_get_value_external(env, argv[0], (void **)&r));
  teardown(r);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  close(fd);
  return NULL;
}

static napi_value js_copy(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type t1, t2;
  size_t n1, n2;
  void *d1, *d2;
  int64_t off;
  if (argc < 3 || napi_get_typedarray_info(env, argv[0], &t1, &n1, &d1, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &t2, &n2, &d2, NULL, NULL) != napi_ok || t1 != napi_uint8_array ||
      t2 != napi_uint8_array || napi_get_value_int64(env, argv[1], &off) != napi_ok) {
    napi_throw_type_error(env, NULL, "copy(dst: Uint8Array, dstOffset: number, src: Uint8Array)");
    return NULL;
  }
  if (off < 0 || (uint64_t)off > n1 || n2 > n1 - (size_t)off) {
    napi_throw_range_error(env, NULL, "copy: source does not fit the destination at that offset");
    return NULL;
  }
  memmove((uint8_t *)d1 + off, d2, n2);
  napi_value out;
  CHECK(napi_create_int64(env, (int64_t)n2, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"copy", NULL, js_copy, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value v;
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_create_int32(env, SLOTS, &v);
  napi_set_named_property(env, exports, "SLOTS", v);
  napi_create_int32(env, SLOT_BYTES, &v);
  napi_set_named_property(env, exports, "SLOT_BYTES", v);
  napi_create_int32(env, META_BYTES, &v);
  napi_set_named_property(env, exports, "META_BYTES", v);
  return exports;
}
