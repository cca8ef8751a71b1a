//! Tests of the code we ship outside the learner's regions (`Version` and `Range`). They
//! live in the solution crate, not in the shared
//! `exercises/02-methods-and-versions/tests/versions.rs`, because every test of that shared
//! file must fail on the unsolved exercise, and these pass on it.

use ch02_methods_and_versions::{Range, Version};
use openssl::ssl::SslVersion;

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

#[test]
fn version_from_ssl_undoes_to_ssl() {
    for v in Version::ALL {
        assert_eq!(
            Version::from_ssl(v.to_ssl()),
            Some(v),
            "Version::from_ssl(v.to_ssl()) gives back v: wrong for {v:?}"
        );
    }
}

#[test]
fn version_from_ssl_knows_nothing_older_than_tls10() {
    assert_eq!(
        Version::from_ssl(SslVersion::SSL3),
        None,
        "Version::from_ssl gives None for a version OpenSSL 3 no longer speaks (SSL 3.0)"
    );
}

#[test]
fn version_displays_as_openssl_names_it() {
    for (v, name) in [
        (Version::Tls10, "TLSv1"),
        (Version::Tls11, "TLSv1.1"),
        (Version::Tls12, "TLSv1.2"),
        (Version::Tls13, "TLSv1.3"),
    ] {
        assert_eq!(
            v.to_string(),
            name,
            "a Version displays as the name OpenSSL gives it (SSL_get_version)"
        );
    }
}

#[test]
fn range_contains_exactly_the_versions_between_its_ends() {
    for min in Version::ALL {
        for max in Version::ALL {
            let range = Range::new(min, max);
            for v in Version::ALL {
                assert_eq!(
                    range.contains(v),
                    min <= v && v <= max,
                    "Range::contains(v) is true exactly for min <= v <= max, both ends \
                     included: wrong for {v:?} in {range:?}"
                );
            }
        }
    }
}

#[test]
fn range_displays_its_ends() {
    assert_eq!(
        Range::new(Version::Tls12, Version::Tls13).to_string(),
        "TLSv1.2 to TLSv1.3",
        "a Range of several versions displays as \"MIN to MAX\""
    );
    assert_eq!(
        Range::only(Version::Tls12).to_string(),
        "TLSv1.2 only",
        "a Range of one version displays as \"VERSION only\""
    );
}
