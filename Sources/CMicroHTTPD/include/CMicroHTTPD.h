// C shim over libmicrohttpd for Swift.
//
// MHD_start_daemon is variadic, so Swift cannot call it; CMicroHTTPD_start takes the options as
// a struct and passes them on. Everything else in microhttpd.h is callable from Swift directly
// and is re-exported by this header. libmicrohttpd's errors are written to stderr as JSON lines,
// like the service's own log.
#ifndef CMICROHTTPD_H
#define CMICROHTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How to run the daemon.
struct CMicroHTTPD_Options {
  /// Numeric address to bind: "0.0.0.0", "127.0.0.1", "::" (dual stack), "::1", ...
  const char *host;
  /// TCP port; 0 picks a free one (see CMicroHTTPD_bound_port).
  uint16_t port;
  /// Most simultaneous connections; further ones are refused by the kernel backlog/closed.
  unsigned int connection_limit;
  /// Seconds of inactivity after which a connection is closed; 0 for none.
  unsigned int connection_timeout;
  /// Stack size of each connection thread, in bytes; 0 for the system default.
  size_t thread_stack_size;
  /// Memory for one connection's request line and headers, in bytes; 0 for MHD's default.
  size_t connection_memory_limit;
  /// Listen backlog; 0 for MHD's default.
  unsigned int listen_backlog;
};

/// Starts a daemon with one thread per connection. `notify` (may be NULL) is told when each
/// connection opens and closes; it is called before the connection's socket is closed. Returns
/// NULL and writes a message into `error` (NUL-terminated, at most `error_size` bytes) on
/// failure.
struct MHD_Daemon *CMicroHTTPD_start(const struct CMicroHTTPD_Options *options,
                                     MHD_AccessHandlerCallback handler, void *handler_cls,
                                     MHD_RequestCompletedCallback completed,
                                     void *completed_cls, MHD_NotifyConnectionCallback notify,
                                     void *notify_cls, char *error, size_t error_size);

/// The connection's socket, or -1.
int CMicroHTTPD_connection_fd(struct MHD_Connection *connection);

/// What the connection-notify callback stored in its `socket_context`, or NULL.
void *CMicroHTTPD_socket_context(struct MHD_Connection *connection);

/// The port the daemon listens on, or 0.
uint16_t CMicroHTTPD_bound_port(struct MHD_Daemon *daemon);

/// The number of open connections.
unsigned int CMicroHTTPD_current_connections(struct MHD_Daemon *daemon);

/// A response whose body is `buffer` (from malloc), freed by MHD when it is done with it.
struct MHD_Response *CMicroHTTPD_response_from_malloc(size_t size, void *buffer);

/// The value of a request header, or NULL.
const char *CMicroHTTPD_header(struct MHD_Connection *connection, const char *name);

#ifdef __cplusplus
}
#endif

#endif
