// OpenSSL's libcrypto (libssl-dev), for SHA-256 only: the transcripts' hash chain. Linked
// statically (see Package.swift) so no gantry start pays for loading it.
//
// The one-shot SHA256() goes through EVP_Q_digest in OpenSSL 3, which fetches the algorithm
// and allocates a context on every call: 14% of `gantry grade`'s time went there, for lines
// of a hundred bytes. The SHA256_CTX calls hash in place, so Gantry uses them (deprecated in
// OpenSSL 3 in favour of EVP, not removed; the warning is silenced here on purpose).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <stddef.h>

/// SHA-256 of `a` followed by `b` (either may be empty), into `out` (32 bytes).
static inline void gantry_sha256(const void *a, size_t a_count, const void *b, size_t b_count, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    if (a_count > 0) SHA256_Update(&context, a, a_count);
    if (b_count > 0) SHA256_Update(&context, b, b_count);
    SHA256_Final(out, &context);
}
