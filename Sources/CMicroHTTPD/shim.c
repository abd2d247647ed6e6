#include "CMicroHTTPD.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// libmicrohttpd's own error messages, as one JSON line each on stderr.
static void log_line(void *cls, const char *format, va_list ap) {
  (void)cls;
  char message[512];
  vsnprintf(message, sizeof message, format, ap);
  char escaped[1100];
  size_t j = 0;
  for (size_t i = 0; message[i] != '\0' && j + 7 < sizeof escaped; i++) {
    unsigned char c = (unsigned char)message[i];
    if (c == '"' || c == '\\') {
      escaped[j++] = '\\';
      escaped[j++] = (char)c;
    } else if (c < 0x20) {
      if (c == '\n') continue;
      j += (size_t)snprintf(escaped + j, sizeof escaped - j, "\\u%04x", c);
    } else {
      escaped[j++] = (char)c;
    }
  }
  escaped[j] = '\0';
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm utc;
  gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  char line[1300];
  int n = snprintf(line, sizeof line,
                   "{\"time\":\"%s.%03ldZ\",\"level\":\"warning\",\"source\":\"libmicrohttpd\","
                   "\"message\":\"%s\"}\n",
                   stamp, now.tv_nsec / 1000000, escaped);
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
    (void)ignored;
  }
}

struct MHD_Daemon *CMicroHTTPD_start(const struct CMicroHTTPD_Options *options,
                                     MHD_AccessHandlerCallback handler, void *handler_cls,
                                     MHD_RequestCompletedCallback completed,
                                     void *completed_cls, MHD_NotifyConnectionCallback notify,
                                     void *notify_cls, char *error, size_t error_size) {
  const char *host = options->host && options->host[0] ? options->host : "0.0.0.0";
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  struct addrinfo *found = NULL;
  int rc = getaddrinfo(host, NULL, &hints, &found);
  if (rc != 0 || found == NULL) {
    snprintf(error, error_size, "--host %s is not a numeric IPv4 or IPv6 address: %s", host,
             gai_strerror(rc));
    return NULL;
  }
  struct sockaddr_storage address;
  memset(&address, 0, sizeof address);
  memcpy(&address, found->ai_addr, found->ai_addrlen);
  int family = found->ai_family;
  freeaddrinfo(found);

  unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                       MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (family == AF_INET6) {
    ((struct sockaddr_in6 *)&address)->sin6_port = htons(options->port);
    struct in6_addr any = IN6ADDR_ANY_INIT;
    if (memcmp(&((struct sockaddr_in6 *)&address)->sin6_addr, &any, sizeof any) == 0) {
      flags |= MHD_USE_DUAL_STACK;
    } else {
      flags |= MHD_USE_IPv6;
    }
  } else {
    ((struct sockaddr_in *)&address)->sin_port = htons(options->port);
  }

  struct MHD_OptionItem items[16];
  int n = 0;
  // the logger first, so that messages about the other options go through it too
  items[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_line, NULL};
  items[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &address};
  items[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completed_cls};
  items[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL};
  if (notify != NULL)
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify, notify_cls};
  if (options->connection_limit > 0)
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, options->connection_limit, NULL};
  if (options->connection_timeout > 0)
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, options->connection_timeout, NULL};
  if (options->thread_stack_size > 0)
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, (intptr_t)options->thread_stack_size, NULL};
  if (options->connection_memory_limit > 0)
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)options->connection_memory_limit, NULL};
  if (options->listen_backlog > 0)
    items[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, options->listen_backlog, NULL};
  items[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

  struct MHD_Daemon *daemon = MHD_start_daemon(flags, options->port, NULL, NULL, handler,
                                               handler_cls, MHD_OPTION_ARRAY, items,
                                               MHD_OPTION_END);
  if (daemon == NULL) {
    snprintf(error, error_size,
             "cannot listen on %s port %u (address in use, no permission, or too many open files)",
             host, (unsigned)options->port);
  }
  return daemon;
}

int CMicroHTTPD_connection_fd(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  return info ? info->connect_fd : -1;
}

void *CMicroHTTPD_socket_context(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

uint16_t CMicroHTTPD_bound_port(struct MHD_Daemon *daemon) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : 0;
}

unsigned int CMicroHTTPD_current_connections(struct MHD_Daemon *daemon) {
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  return info ? info->num_connections : 0;
}

struct MHD_Response *CMicroHTTPD_response_from_malloc(size_t size, void *buffer) {
  return MHD_create_response_from_buffer_with_free_callback(size, buffer, &free);
}

const char *CMicroHTTPD_header(struct MHD_Connection *connection, const char *name) {
  return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}
