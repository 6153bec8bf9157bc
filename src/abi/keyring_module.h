/* The C interface between the program and its keyring module (tokenctl-keyring.so).
 *
 * Why a module: `storage = "keyring"` keeps a profile's refresh token in the freedesktop.org
 * Secret Service (GNOME Keyring, KWallet, KeePassXC) through libsecret, which brings GLib, GIO,
 * GObject and libgcrypt with it. Most runs never touch the keyring (`tokenctl token` with a
 * valid access token reads only the cache), so the program dlopen()s this module only when a
 * keyring profile needs its refresh token, exactly as it loads the network module
 * (src/abi/net_module.h). Only C types cross the boundary: the program and the module each carry
 * their own static C++ runtime, so no C++ object or exception may pass.
 *
 * Every function:
 *   - is bounded: it returns within timeout_ms plus at most 100 ms, whatever the bus or the
 *     service does (hung bus, service that never answers, slow D-Bus activation). tokenctl
 *     passes 3000. A timeout_ms <= 0 means 3000; more than 600000 means 600000.
 *   - never shows or waits for a prompt. A Secret Service asks for a prompt to unlock a locked
 *     collection or to create a missing one; a command-line tool cannot answer it, so the module
 *     reports TOKENCTL_KEYRING_LOCKED / TOKENCTL_KEYRING_NO_COLLECTION instead.
 *   - never falls back: no other store, no D-Bus autolaunch (X11 dbus-launch), no other collection.
 *   - prints nothing on stdout or stderr (GLib's log messages are swallowed).
 *   - on any result other than OK, writes a one-line English reason into errbuf (NUL-terminated,
 *     truncated to errbuf_len; errbuf may be NULL when errbuf_len is 0). The reason never holds
 *     any secret; it may name the profile, the bus address and the service's own error text.
 *   - takes NUL-terminated UTF-8 strings (D-Bus carries nothing else); anything else is FAILED.
 *   - may be called from any thread, also concurrently; each call uses its own GLib main
 *     context and never touches the thread-default context of the caller.
 *
 * Items: schema "org.tokenctl.Token" (libsecret also sets the attribute xdg:schema to it),
 * attributes application = "tokenctl", profile = PROFILE, issuer = ISSUER. One item per
 * (profile, issuer). `secret-tool lookup application tokenctl profile P issuer I` finds it.
 *
 * Side effects on the process, once the first call was made: GLib's worker thread ("gdbus")
 * keeps running; GLib's default log handler is replaced by one that drops every message; the
 * module stays mapped (linked with -z nodelete: it registers a GObject type, which GLib cannot
 * forget). None of this touches stdout, stderr, signals or the environment.
 */
#ifndef TOKENCTL_KEYRING_MODULE_ABI_H
#define TOKENCTL_KEYRING_MODULE_ABI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TOKENCTL_KEYRING_ABI_VERSION 1
#define TOKENCTL_KEYRING_ENTRY "tokenctl_keyring_module_v1"

enum tokenctl_keyring_result {
  TOKENCTL_KEYRING_OK = 0,
  /* lookup: no item for (profile, issuer). erase: there was none to remove. */
  TOKENCTL_KEYRING_NOT_FOUND = 1,
  /* The collection that holds (or would hold) the item is locked, and unlocking it needs a
   * prompt: the user must unlock the keyring (e.g. log in to the desktop, or Seahorse). Also
   * when the service asked for a prompt for any other reason. */
  TOKENCTL_KEYRING_LOCKED = 2,
  /* No session bus (DBUS_SESSION_BUS_ADDRESS unset and no $XDG_RUNTIME_DIR/bus, or the address
   * does not accept connections), or no Secret Service on it (org.freedesktop.secrets neither
   * owned nor activatable, or its activation failed). */
  TOKENCTL_KEYRING_NO_SERVICE = 3,
  /* The bus or the service did not answer within timeout_ms. Nothing is known of the outcome
   * of a store or erase that timed out (the service may still carry it out). */
  TOKENCTL_KEYRING_TIMEOUT = 4,
  /* Anything else (the service refused the call, bad argument, ...): errbuf says what. */
  TOKENCTL_KEYRING_FAILED = 5,
  /* store (and probe): the Secret Service has no default collection ("login" keyring), and
   * creating one needs a prompt for its password. */
  TOKENCTL_KEYRING_NO_COLLECTION = 6
};

struct tokenctl_keyring_module {
  int abi_version; /* TOKENCTL_KEYRING_ABI_VERSION */

  /* Store `secret` (secret_len bytes, any bytes; not NUL-terminated) as the item of
   * (profile, issuer) in the default collection, labelled `label` (tokenctl passes
   * "tokenctl: PROFILE (HOST)"), replacing the item of that collection with the same
   * attributes. The default collection is checked first: missing -> NO_COLLECTION, locked ->
   * LOCKED, and then nothing is written. The secret crosses D-Bus encrypted when the service
   * supports it (dh-ietf1024-sha256-aes128-cbc-pkcs7, as gnome-keyring does); the module's
   * copies are wiped. OK, LOCKED, NO_COLLECTION, NO_SERVICE, TIMEOUT, FAILED. */
  int (*store)(const char* profile, const char* issuer, const char* label, const char* secret, size_t secret_len,
               int timeout_ms, char* errbuf, size_t errbuf_len);

  /* Find the item of (profile, issuer) in any collection and return its secret: on OK,
   * *secret_out is a new buffer of *len_out bytes followed by a NUL byte (which *len_out does
   * not count), to be released with free_secret(*secret_out, *len_out); on anything else
   * *secret_out is NULL and *len_out 0. When only a locked collection holds a matching item,
   * or nothing matches while the default collection is locked (a service may hide the items of
   * a locked collection): LOCKED. When several unlocked items match (e.g. copies in two
   * collections), the first the service lists is returned. OK, NOT_FOUND, LOCKED, NO_SERVICE,
   * TIMEOUT, FAILED. */
  int (*lookup)(const char* profile, const char* issuer, int timeout_ms, char** secret_out, size_t* len_out,
                char* errbuf, size_t errbuf_len);

  /* Remove every item of (profile, issuer) from every unlocked collection. OK when at least one
   * was removed and none is left in a locked collection; NOT_FOUND when there was none; LOCKED
   * when a matching item is in a locked collection (it stays), or nothing matched while the
   * default collection is locked. NO_SERVICE, TIMEOUT, FAILED. */
  int (*erase)(const char* profile, const char* issuer, int timeout_ms, char* errbuf, size_t errbuf_len);

  /* Wipe (explicit_bzero, len + 1 bytes) and free a buffer returned by lookup. NULL is fine. */
  void (*free_secret)(char* secret, size_t len);

  /* Check, without reading or writing any item, that a store would be accepted now: the
   * session bus answers, a Secret Service is on it, its default collection exists and is
   * unlocked. For `tokenctl status` and for tests. OK, LOCKED, NO_COLLECTION, NO_SERVICE,
   * TIMEOUT, FAILED. */
  int (*probe)(int timeout_ms, char* errbuf, size_t errbuf_len);
};

typedef const struct tokenctl_keyring_module* (*tokenctl_keyring_entry_fn)(void);

/* The module's only exported symbol (the program reaches it through dlsym; tests call it). */
const struct tokenctl_keyring_module* tokenctl_keyring_module_v1(void);

#ifdef __cplusplus
}
#endif

#endif
