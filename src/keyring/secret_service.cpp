// The keyring module tokenctl-keyring.so: the refresh tokens of `storage = "keyring"` profiles in
// the freedesktop.org Secret Service, through libsecret. The one exported symbol is the entry
// point at the bottom; everything else is compiled with hidden visibility. The interface and its
// promises (bounded, no prompt, no fallback, silent) are in src/abi/keyring_module.h.
//
// How the promises are kept:
// - Bounded: libsecret's *_sync functions take no timeout (and GDBus's own is 25 s), so every
//   step runs through libsecret's asynchronous API on a private GMainContext, with one
//   GCancellable per call that a timer source on that context cancels at the deadline. Cancelled
//   GDBus calls complete at once; a step that still has not completed 100 ms after the deadline
//   is abandoned (its state is leaked on purpose, and its context is never iterated again, so its
//   callback can never run).
// - No prompt: the SecretService is our subclass whose prompt vfuncs fail at once (the prompt is
//   never performed, so nothing is shown), and the default collection's Locked property is read
//   before a store. Searches never pass SECRET_SEARCH_UNLOCK.
// - No autolaunch: without DBUS_SESSION_BUS_ADDRESS and without $XDG_RUNTIME_DIR/bus, GLib would
//   try `dbus-launch --autolaunch` (an X11 helper that starts a bus of its own); the module says
//   NO_SERVICE first.
// - Silent: GLib's default log handler is replaced by one that drops messages (GLib, GIO, GObject
//   and libsecret all log through g_log(), none through g_log_structured() in Debian 12).
// - GLib's shared session-bus connection would raise SIGTERM in this process if the bus went away
//   (exit-on-close); the module turns that off before using it.
#include <gio/gio.h>
#include <libsecret/secret.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string.h> // explicit_bzero
#include <sys/stat.h>

#include "abi/keyring_module.h"

namespace {

constexpr int k_default_timeout_ms = 3000;
constexpr int k_max_timeout_ms = 600000;
constexpr int k_grace_ms = 100;

// The item schema. SECRET_SCHEMA_NONE: libsecret stores xdg:schema = "org.tokenctl.Token" and
// matches on it, so items of other programs with the same attribute names never match.
const SecretSchema k_schema = {"org.tokenctl.Token",
                               SECRET_SCHEMA_NONE,
                               {
                                   {"application", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                   {"profile", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                   {"issuer", SECRET_SCHEMA_ATTRIBUTE_STRING},
                                   {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING},
                               },
                               0,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr,
                               nullptr};

// ---- GLib's log: swallowed ------------------------------------------------------------------

void drop_log(const gchar*, GLogLevelFlags, const gchar*, gpointer) {}

void silence_glib() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    g_log_set_default_handler(drop_log, nullptr);
    g_once_init_leave(&once, 1);
  }
}

// ---- A SecretService that never prompts -----------------------------------------------------

GQuark prompt_refused_quark() { return g_quark_from_static_string("tokenctl-keyring-prompt-refused"); }

struct TokenctlQuietService {
  SecretService parent;
};
struct TokenctlQuietServiceClass {
  SecretServiceClass parent_class;
};

G_DEFINE_TYPE(TokenctlQuietService, tokenctl_quiet_service, SECRET_TYPE_SERVICE)

GVariant* refuse_prompt_sync(SecretService*, SecretPrompt*, GCancellable*, const GVariantType*, GError** error) {
  g_set_error_literal(error, prompt_refused_quark(), 1, "the Secret Service asked for a prompt");
  return nullptr;
}

void refuse_prompt_async(SecretService* self, SecretPrompt*, const GVariantType*, GCancellable* cancellable,
                         GAsyncReadyCallback callback, gpointer user_data) {
  GTask* task = g_task_new(self, cancellable, callback, user_data);
  g_task_return_new_error(task, prompt_refused_quark(), 1, "the Secret Service asked for a prompt");
  g_object_unref(task);
}

GVariant* refuse_prompt_finish(SecretService*, GAsyncResult* result, GError** error) {
  return static_cast<GVariant*>(g_task_propagate_pointer(G_TASK(result), error));
}

void tokenctl_quiet_service_class_init(TokenctlQuietServiceClass* klass) {
  SecretServiceClass* service_class = SECRET_SERVICE_CLASS(klass);
  service_class->prompt_sync = refuse_prompt_sync;
  service_class->prompt_async = refuse_prompt_async;
  service_class->prompt_finish = refuse_prompt_finish;
}

void tokenctl_quiet_service_init(TokenctlQuietService*) {}

// ---- Messages -------------------------------------------------------------------------------

struct Errbuf {
  char* buf;
  size_t len;
};

__attribute__((format(printf, 2, 3))) void say(const Errbuf& err, const char* format, ...) {
  if (err.buf == nullptr || err.len == 0) return;
  va_list args;
  va_start(args, format);
  vsnprintf(err.buf, err.len, format, args);
  va_end(args);
  // One line: the service's own messages could hold a newline.
  for (char* p = err.buf; *p != '\0'; ++p)
    if (*p == '\n' || *p == '\r') *p = ' ';
}

// ---- One bounded call -----------------------------------------------------------------------

// The completion of one asynchronous step. Heap-allocated: leaked, not freed, when the step is
// abandoned, so that a late callback (which cannot run anyway) would never touch freed memory.
struct Step {
  bool done = false;
  GAsyncResult* result = nullptr;
};

void on_step_ready(GObject*, GAsyncResult* result, gpointer data) {
  auto* step = static_cast<Step*>(data);
  step->result = G_ASYNC_RESULT(g_object_ref(result));
  step->done = true;
}

gboolean on_deadline(gpointer data);
gboolean on_give_up(gpointer data);

class Call {
public:
  Call(int timeout_ms, char* errbuf, size_t errbuf_len) : m_err{errbuf, errbuf_len} {
    silence_glib();
    if (m_err.buf != nullptr && m_err.len > 0) m_err.buf[0] = '\0';
    m_timeout_ms = timeout_ms <= 0                 ? k_default_timeout_ms
                   : timeout_ms > k_max_timeout_ms ? k_max_timeout_ms
                                                   : timeout_ms;
    m_ctx = g_main_context_new();
    m_cancel = g_cancellable_new();
    g_main_context_push_thread_default(m_ctx);
    m_deadline = g_timeout_source_new(static_cast<guint>(m_timeout_ms));
    g_source_set_callback(m_deadline, on_deadline, this, nullptr);
    g_source_attach(m_deadline, m_ctx);
    m_give_up = g_timeout_source_new(static_cast<guint>(m_timeout_ms + k_grace_ms));
    g_source_set_callback(m_give_up, on_give_up, this, nullptr);
    g_source_attach(m_give_up, m_ctx);
  }

  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  ~Call() {
    g_clear_object(&m_service);
    g_clear_object(&m_bus);
    g_source_destroy(m_deadline);
    g_source_unref(m_deadline);
    g_source_destroy(m_give_up);
    g_source_unref(m_give_up);
    if (!m_abandoned) {
      // Let GLib finish its own bookkeeping (destroy notifies of signal subscriptions, ...)
      // queued on this context; never block.
      for (int i = 0; i < 100 && g_main_context_iteration(m_ctx, FALSE); ++i) {}
    }
    g_main_context_pop_thread_default(m_ctx);
    g_object_unref(m_cancel);
    // An abandoned step still references the context; it is simply never iterated again.
    g_main_context_unref(m_ctx);
  }

  // Wait for `step` (started with on_step_ready and this call's cancellable). Returns its result
  // (owned by the caller), or nullptr when the step was abandoned (then call timeout()).
  GAsyncResult* wait(Step* step) {
    while (!step->done && !m_abandoned) g_main_context_iteration(m_ctx, TRUE);
    if (!step->done) return nullptr; // leaked on purpose, see Step
    GAsyncResult* result = step->result;
    delete step;
    return result;
  }

  GCancellable* cancellable() const { return m_cancel; }
  const Errbuf& err() const { return m_err; }
  int timeout_ms() const { return m_timeout_ms; }
  bool timed_out() const { return m_timed_out; }

  void deadline_reached() {
    m_timed_out = true;
    g_cancellable_cancel(m_cancel);
  }
  void give_up() { m_abandoned = true; }

  int timeout(const char* what) {
    say(m_err, "the Secret Service did not answer within %d ms (%s)", m_timeout_ms, what);
    return TOKENCTL_KEYRING_TIMEOUT;
  }

  // Map a failed step's error to a result code and a message.
  int fail(GError* error, const char* what) {
    int code = TOKENCTL_KEYRING_FAILED;
    if (error == nullptr && !m_timed_out) {
      say(m_err, "Secret Service: %s failed", what);
      return code;
    }
    if (m_timed_out || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
        g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT)) {
      if (error != nullptr) g_error_free(error);
      return timeout(what);
    }
    if (error->domain == prompt_refused_quark()) {
      say(m_err, "the keyring is locked: %s needs it unlocked, and unlocking it needs a prompt", what);
      g_error_free(error);
      return TOKENCTL_KEYRING_LOCKED;
    }
    if (g_error_matches(error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED)) {
      code = TOKENCTL_KEYRING_LOCKED;
    } else if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FORK_FAILED) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_SIGNALED) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_INVALID) ||
               g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FILE_INVALID) ||
               g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
               g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
               g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)) {
      code = TOKENCTL_KEYRING_NO_SERVICE;
    }
    if (g_dbus_error_is_remote_error(error)) g_dbus_error_strip_remote_error(error);
    say(m_err, "Secret Service: %s: %s", what, error->message);
    g_error_free(error);
    return code;
  }

  // Connect to the session bus and to the Secret Service on it.
  int open() {
    if (int rc = check_bus_address(); rc != TOKENCTL_KEYRING_OK) return rc;

    auto* step = new Step;
    g_bus_get(G_BUS_TYPE_SESSION, m_cancel, on_step_ready, step);
    GAsyncResult* result = wait(step);
    if (result == nullptr) return timeout("connecting to the session bus");
    GError* error = nullptr;
    m_bus = g_bus_get_finish(result, &error);
    g_object_unref(result);
    if (m_bus == nullptr) {
      if (m_timed_out) {
        g_error_free(error);
        say(m_err, "the session bus did not answer within %d ms", m_timeout_ms);
        return TOKENCTL_KEYRING_TIMEOUT;
      }
      const char* address = g_getenv("DBUS_SESSION_BUS_ADDRESS");
      say(m_err, "cannot connect to the session bus%s%s: %s", address != nullptr ? " at " : "",
          address != nullptr ? address : "", error != nullptr ? error->message : "unknown error");
      g_clear_error(&error);
      return TOKENCTL_KEYRING_NO_SERVICE;
    }
    g_dbus_connection_set_exit_on_close(m_bus, FALSE);

    // Our subclass (no prompts), not the process-wide default instance. It runs on the same
    // shared connection. GDBusProxy's initialisation asks the bus to start the service when
    // nobody owns org.freedesktop.secrets and a .service file can activate it.
    step = new Step;
    secret_service_open(tokenctl_quiet_service_get_type(), nullptr, SECRET_SERVICE_NONE, m_cancel, on_step_ready, step);
    result = wait(step);
    if (result == nullptr) return timeout("connecting to the Secret Service");
    m_service = secret_service_open_finish(result, &error);
    g_object_unref(result);
    if (m_service == nullptr) return fail(error, "connecting");
    gchar* owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(m_service));
    if (owner == nullptr) {
      say(m_err, "no Secret Service on the session bus (nothing owns or can start %s)",
          g_dbus_proxy_get_name(G_DBUS_PROXY(m_service)));
      return TOKENCTL_KEYRING_NO_SERVICE;
    }
    g_free(owner);
    return TOKENCTL_KEYRING_OK;
  }

  SecretService* service() const { return m_service; }

  // The default collection (*out nullptr when there is none). Owned by the caller.
  int default_collection(SecretCollection** out) {
    *out = nullptr;
    auto* step = new Step;
    secret_collection_for_alias(m_service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, m_cancel, on_step_ready,
                                step);
    GAsyncResult* result = wait(step);
    if (result == nullptr) return timeout("reading the default collection");
    GError* error = nullptr;
    *out = secret_collection_for_alias_finish(result, &error);
    g_object_unref(result);
    if (error != nullptr) return fail(error, "reading the default collection");
    return TOKENCTL_KEYRING_OK;
  }

  // The default collection, checked to exist and be unlocked.
  int usable_default_collection(SecretCollection** out) {
    int rc = default_collection(out);
    if (rc != TOKENCTL_KEYRING_OK) return rc;
    if (*out == nullptr) {
      say(m_err, "the Secret Service has no default keyring, and creating one needs a prompt: create it "
                 "(e.g. with Seahorse, \"Passwords and Keys\")");
      return TOKENCTL_KEYRING_NO_COLLECTION;
    }
    if (secret_collection_get_locked(*out)) {
      gchar* label = secret_collection_get_label(*out);
      say(m_err, "the default keyring%s%s%s is locked, and unlocking it needs a prompt", label != nullptr ? " \"" : "",
          label != nullptr ? label : "", label != nullptr ? "\"" : "");
      g_free(label);
      g_clear_object(out);
      return TOKENCTL_KEYRING_LOCKED;
    }
    return TOKENCTL_KEYRING_OK;
  }

  // Every item of (profile, issuer), unlocked first. *out owned by the caller.
  int search(GHashTable* attributes, GList** out) {
    *out = nullptr;
    auto* step = new Step;
    secret_service_search(m_service, &k_schema, attributes, SECRET_SEARCH_ALL, m_cancel, on_step_ready, step);
    GAsyncResult* result = wait(step);
    if (result == nullptr) return timeout("searching");
    GError* error = nullptr;
    *out = secret_service_search_finish(m_service, result, &error);
    g_object_unref(result);
    if (error != nullptr) {
      g_list_free_full(*out, g_object_unref);
      *out = nullptr;
      return fail(error, "searching");
    }
    return TOKENCTL_KEYRING_OK;
  }

  // Nothing matched: LOCKED when the default collection is locked (a service may hide the items
  // of a locked collection), else NOT_FOUND.
  int nothing_found(const char* profile) {
    SecretCollection* collection = nullptr;
    int rc = default_collection(&collection);
    if (rc != TOKENCTL_KEYRING_OK) return rc;
    bool locked = collection != nullptr && secret_collection_get_locked(collection);
    g_clear_object(&collection);
    if (locked) {
      say(m_err, "the default keyring is locked, and unlocking it needs a prompt (the item of profile %s may be in it)",
          profile);
      return TOKENCTL_KEYRING_LOCKED;
    }
    say(m_err, "no keyring item for profile %s", profile);
    return TOKENCTL_KEYRING_NOT_FOUND;
  }

private:
  // No autolaunch: GLib would run dbus-launch when it finds no address.
  int check_bus_address() {
    const char* address = g_getenv("DBUS_SESSION_BUS_ADDRESS");
    if (address != nullptr && address[0] != '\0') return TOKENCTL_KEYRING_OK;
    const char* runtime = g_getenv("XDG_RUNTIME_DIR");
    if (runtime != nullptr && runtime[0] != '\0') {
      gchar* path = g_build_filename(runtime, "bus", nullptr);
      struct stat st;
      bool is_socket = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
      g_free(path);
      if (is_socket) return TOKENCTL_KEYRING_OK; // GLib connects there itself
    }
    say(m_err, "no session bus: DBUS_SESSION_BUS_ADDRESS is not set%s",
        runtime != nullptr && runtime[0] != '\0' ? " and there is no $XDG_RUNTIME_DIR/bus" : " (nor XDG_RUNTIME_DIR)");
    return TOKENCTL_KEYRING_NO_SERVICE;
  }

  Errbuf m_err;
  int m_timeout_ms = k_default_timeout_ms;
  GMainContext* m_ctx = nullptr;
  GCancellable* m_cancel = nullptr;
  GSource* m_deadline = nullptr;
  GSource* m_give_up = nullptr;
  bool m_timed_out = false;
  bool m_abandoned = false;
  GDBusConnection* m_bus = nullptr;
  SecretService* m_service = nullptr;
};

gboolean on_deadline(gpointer data) {
  static_cast<Call*>(data)->deadline_reached();
  return G_SOURCE_REMOVE;
}

gboolean on_give_up(gpointer data) {
  static_cast<Call*>(data)->give_up();
  return G_SOURCE_REMOVE;
}

// ---- Arguments ------------------------------------------------------------------------------

bool valid_text(const char* s) { return s != nullptr && g_utf8_validate(s, -1, nullptr); }

int bad_argument(char* errbuf, size_t errbuf_len, const char* what) {
  say(Errbuf{errbuf, errbuf_len}, "%s is missing or not valid UTF-8", what);
  return TOKENCTL_KEYRING_FAILED;
}

// The attributes of (profile, issuer); the strings are borrowed.
GHashTable* item_attributes(const char* profile, const char* issuer) {
  GHashTable* attributes = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(attributes, const_cast<char*>("application"), const_cast<char*>("tokenctl"));
  g_hash_table_insert(attributes, const_cast<char*>("profile"), const_cast<char*>(profile));
  g_hash_table_insert(attributes, const_cast<char*>("issuer"), const_cast<char*>(issuer));
  return attributes;
}

// ---- The functions of the interface ---------------------------------------------------------

int keyring_store(const char* profile, const char* issuer, const char* label, const char* secret, size_t secret_len,
                  int timeout_ms, char* errbuf, size_t errbuf_len) noexcept {
  if (!valid_text(profile)) return bad_argument(errbuf, errbuf_len, "the profile");
  if (!valid_text(issuer)) return bad_argument(errbuf, errbuf_len, "the issuer");
  if (!valid_text(label)) return bad_argument(errbuf, errbuf_len, "the label");
  if (secret == nullptr && secret_len > 0) return bad_argument(errbuf, errbuf_len, "the secret");
  if (secret_len > static_cast<size_t>(G_MAXSSIZE)) return bad_argument(errbuf, errbuf_len, "the secret");

  Call call(timeout_ms, errbuf, errbuf_len);
  if (int rc = call.open(); rc != TOKENCTL_KEYRING_OK) return rc;
  SecretCollection* collection = nullptr;
  if (int rc = call.usable_default_collection(&collection); rc != TOKENCTL_KEYRING_OK) return rc;

  // Store into that collection by its object path, not through the "default" alias: libsecret
  // creates the default collection (a prompt) when the alias leads nowhere.
  const char* collection_path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(collection));
  GHashTable* attributes = item_attributes(profile, issuer);
  // secret_value_new copies into libsecret's secure memory, which is wiped when freed.
  SecretValue* value = secret_value_new(secret != nullptr ? secret : "", static_cast<gssize>(secret_len), "text/plain");
  auto* step = new Step;
  secret_service_store(call.service(), &k_schema, attributes, collection_path, label, value, call.cancellable(),
                       on_step_ready, step);
  GAsyncResult* result = call.wait(step);
  secret_value_unref(value);
  g_hash_table_unref(attributes);
  int rc = TOKENCTL_KEYRING_OK;
  if (result == nullptr) {
    rc = call.timeout("storing");
  } else {
    GError* error = nullptr;
    if (!secret_service_store_finish(call.service(), result, &error)) rc = call.fail(error, "storing");
    g_object_unref(result);
  }
  g_object_unref(collection);
  return rc;
}

// Open the service and list the items of (profile, issuer) into `*items`.
int search_items(Call& call, const char* profile, const char* issuer, GList** items) {
  if (int rc = call.open(); rc != TOKENCTL_KEYRING_OK) return rc;
  GHashTable* attributes = item_attributes(profile, issuer);
  const int rc = call.search(attributes, items);
  g_hash_table_unref(attributes);
  return rc;
}

// Load `item`'s secret and hand a malloc'd copy to the caller; takes over the reference to `item`.
int read_secret(Call& call, SecretItem* item, const char* profile, char** secret_out, size_t* len_out) {
  int rc = TOKENCTL_KEYRING_FAILED;
  auto* step = new Step;
  secret_item_load_secret(item, call.cancellable(), on_step_ready, step);
  GAsyncResult* result = call.wait(step);
  if (result == nullptr) {
    g_object_unref(item);
    return call.timeout("reading the secret");
  }
  GError* error = nullptr;
  bool loaded = secret_item_load_secret_finish(item, result, &error);
  g_object_unref(result);
  if (!loaded) {
    g_object_unref(item);
    return call.fail(error, "reading the secret");
  }
  SecretValue* value = secret_item_get_secret(item);
  if (value == nullptr) {
    g_object_unref(item);
    say(call.err(), "the Secret Service returned no secret for profile %s", profile);
    return TOKENCTL_KEYRING_FAILED;
  }
  gsize len = 0;
  const gchar* bytes = secret_value_get(value, &len);
  char* copy = static_cast<char*>(malloc(len + 1));
  if (copy == nullptr) {
    say(call.err(), "out of memory");
  } else {
    if (len > 0) memcpy(copy, bytes, len);
    copy[len] = '\0';
    *secret_out = copy;
    *len_out = len;
    rc = TOKENCTL_KEYRING_OK;
  }
  secret_value_unref(value); // libsecret's copy lives in its secure memory, wiped when freed
  g_object_unref(item);
  return rc;
}

int keyring_lookup(const char* profile, const char* issuer, int timeout_ms, char** secret_out, size_t* len_out,
                   char* errbuf, size_t errbuf_len) noexcept {
  if (secret_out == nullptr || len_out == nullptr) return bad_argument(errbuf, errbuf_len, "the output");
  *secret_out = nullptr;
  *len_out = 0;
  if (!valid_text(profile)) return bad_argument(errbuf, errbuf_len, "the profile");
  if (!valid_text(issuer)) return bad_argument(errbuf, errbuf_len, "the issuer");

  Call call(timeout_ms, errbuf, errbuf_len);
  GList* items = nullptr;
  int rc = search_items(call, profile, issuer, &items);
  if (rc != TOKENCTL_KEYRING_OK) return rc;

  SecretItem* item = nullptr;
  for (GList* l = items; l != nullptr; l = l->next) {
    if (!secret_item_get_locked(SECRET_ITEM(l->data))) {
      item = SECRET_ITEM(g_object_ref(l->data));
      break;
    }
  }
  bool any = items != nullptr;
  g_list_free_full(items, g_object_unref);
  if (item == nullptr) {
    if (!any) return call.nothing_found(profile);
    say(call.err(), "the keyring that holds the item of profile %s is locked, and unlocking it needs a prompt",
        profile);
    return TOKENCTL_KEYRING_LOCKED;
  }

  return read_secret(call, item, profile, secret_out, len_out);
}

int keyring_erase(const char* profile, const char* issuer, int timeout_ms, char* errbuf, size_t errbuf_len) noexcept {
  if (!valid_text(profile)) return bad_argument(errbuf, errbuf_len, "the profile");
  if (!valid_text(issuer)) return bad_argument(errbuf, errbuf_len, "the issuer");

  Call call(timeout_ms, errbuf, errbuf_len);
  GList* items = nullptr;
  int rc = search_items(call, profile, issuer, &items);
  if (rc != TOKENCTL_KEYRING_OK) return rc;
  if (items == nullptr) return call.nothing_found(profile);

  int removed = 0;
  int locked = 0;
  for (GList* l = items; l != nullptr && rc == TOKENCTL_KEYRING_OK; l = l->next) {
    SecretItem* item = SECRET_ITEM(l->data);
    if (secret_item_get_locked(item)) {
      ++locked;
      continue;
    }
    auto* step = new Step;
    secret_item_delete(item, call.cancellable(), on_step_ready, step);
    GAsyncResult* result = call.wait(step);
    if (result == nullptr) {
      rc = call.timeout("removing");
      break;
    }
    GError* error = nullptr;
    if (secret_item_delete_finish(item, result, &error)) {
      ++removed;
    } else if (g_error_matches(error, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT)) {
      g_error_free(error); // gone meanwhile
    } else {
      rc = call.fail(error, "removing");
    }
    g_object_unref(result);
  }
  g_list_free_full(items, g_object_unref);
  if (rc != TOKENCTL_KEYRING_OK) return rc;
  if (locked > 0) {
    say(call.err(), "%d keyring item(s) of profile %s are in a locked keyring, and unlocking it needs a prompt%s",
        locked, profile, removed > 0 ? " (the unlocked ones were removed)" : "");
    return TOKENCTL_KEYRING_LOCKED;
  }
  if (removed == 0) {
    say(call.err(), "no keyring item for profile %s", profile);
    return TOKENCTL_KEYRING_NOT_FOUND;
  }
  return TOKENCTL_KEYRING_OK;
}

void keyring_free_secret(char* secret, size_t len) noexcept {
  if (secret == nullptr) return;
  explicit_bzero(secret, len + 1);
  free(secret);
}

int keyring_probe(int timeout_ms, char* errbuf, size_t errbuf_len) noexcept {
  Call call(timeout_ms, errbuf, errbuf_len);
  if (int rc = call.open(); rc != TOKENCTL_KEYRING_OK) return rc;
  SecretCollection* collection = nullptr;
  int rc = call.usable_default_collection(&collection);
  g_clear_object(&collection);
  return rc;
}

const tokenctl_keyring_module k_module{TOKENCTL_KEYRING_ABI_VERSION, keyring_store, keyring_lookup, keyring_erase,
                                       keyring_free_secret,          keyring_probe};

} // namespace

extern "C" __attribute__((visibility("default"))) const tokenctl_keyring_module* tokenctl_keyring_module_v1() {
  return &k_module;
}
