// OpenSSL's libcrypto (libssl-dev), for SHA-256 only: the transcripts' hash chain. Linked
// statically (see Package.swift) so no gantry start pays for loading it.
#include <openssl/sha.h>
