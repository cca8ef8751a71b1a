//! The certificate factory: every identity the chapters use, good and bad, made fresh by
//! [`pki()`] the first time a process asks for it.
//!
//! Nothing here depends on the date: good certificates are valid from a day ago for a year,
//! and the expired and not-yet-valid ones get dates relative to now. rcgen signs everything
//! (ECDSA P-256 by default); the one RSA-2048 key is fixed (`server-rsa.key`): rcgen's
//! `ring` backend cannot generate RSA keys, and OpenSSL takes a noticeable time to.
//!
//! [`Files`] writes the whole set into a temporary folder (deleted on drop) in every format
//! the chapters load: PEM and DER certificates, PKCS#8 PEM and DER keys, traditional
//! ("BEGIN EC PRIVATE KEY") keys and passphrase-encrypted keys.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use openssl::pkey::{PKey, Private};
use openssl::symm::Cipher;
use openssl::x509::X509;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// The passphrase of every `*.enc.key` file.
pub const PASSPHRASE: &str = "workbook passphrase";

/// The host name every good server certificate is issued for.
pub const HOST: &str = "localhost";

/// One certificate with its private key and the intermediates a peer must send with it.
#[derive(Clone)]
pub struct Identity {
    /// File stem used by [`Files`]: `server` becomes `server.crt`, `server.key`, ...
    pub name: &'static str,
    pub cert: X509,
    pub key: PKey<Private>,
    /// Intermediate CA certificates, leaf-side first; the root is never included.
    pub intermediates: Vec<X509>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("name", &self.name)
            .field("subject", &self.cert.subject_name())
            .field("intermediates", &self.intermediates.len())
            .finish()
    }
}

impl Identity {
    pub fn cert_pem(&self) -> String {
        utf8(self.cert.to_pem().expect("encode certificate"))
    }
    pub fn cert_der(&self) -> Vec<u8> {
        self.cert.to_der().expect("encode certificate")
    }
    /// Leaf then intermediates: what `set_certificate_chain_file` expects.
    pub fn chain_pem(&self) -> String {
        let mut out = self.cert_pem();
        for c in &self.intermediates {
            out.push_str(&utf8(c.to_pem().expect("encode certificate")));
        }
        out
    }
    /// PKCS#8 PEM ("BEGIN PRIVATE KEY").
    pub fn key_pem(&self) -> String {
        utf8(self.key.private_key_to_pem_pkcs8().expect("encode key"))
    }
    /// PKCS#8 DER.
    pub fn key_der(&self) -> Vec<u8> {
        self.key.private_key_to_pkcs8().expect("encode key")
    }
    /// The older, type-specific PEM: "BEGIN EC PRIVATE KEY" or "BEGIN RSA PRIVATE KEY".
    pub fn key_legacy_pem(&self) -> String {
        let pem = if let Ok(rsa) = self.key.rsa() {
            rsa.private_key_to_pem()
        } else {
            self.key
                .ec_key()
                .expect("EC or RSA key")
                .private_key_to_pem()
        };
        utf8(pem.expect("encode key"))
    }
    /// PKCS#8 PEM encrypted with AES-256-CBC under `passphrase`.
    pub fn key_encrypted_pem(&self, passphrase: &str) -> String {
        utf8(
            self.key
                .private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), passphrase.as_bytes())
                .expect("encrypt key"),
        )
    }
    /// SHA-256 fingerprint of the leaf, as lowercase hex with colons.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert)
    }

    /// Writes the identity's files; the encrypted key only when asked, since encrypting
    /// (PBKDF2) costs several milliseconds a key.
    fn write_into(&self, dir: &Path, encrypted: bool) -> io::Result<()> {
        let n = self.name;
        fs::write(dir.join(format!("{n}.crt")), self.cert_pem())?;
        fs::write(dir.join(format!("{n}.crt.der")), self.cert_der())?;
        fs::write(dir.join(format!("{n}.chain.crt")), self.chain_pem())?;
        if !self.intermediates.is_empty() {
            // What `openssl s_server -cert_chain` and similar options want: the extra
            // certificates only.
            let extra: String = self
                .intermediates
                .iter()
                .map(|c| utf8(c.to_pem().expect("encode certificate")))
                .collect();
            fs::write(dir.join(format!("{n}.intermediates.crt")), extra)?;
        }
        write_private(&dir.join(format!("{n}.key")), self.key_pem().as_bytes())?;
        write_private(&dir.join(format!("{n}.key.der")), &self.key_der())?;
        write_private(
            &dir.join(format!("{n}.legacy.key")),
            self.key_legacy_pem().as_bytes(),
        )?;
        if encrypted {
            self.write_encrypted_into(dir)?;
        }
        Ok(())
    }

    fn write_encrypted_into(&self, dir: &Path) -> io::Result<()> {
        write_private(
            &dir.join(format!("{}.enc.key", self.name)),
            self.key_encrypted_pem(PASSPHRASE).as_bytes(),
        )
    }
}

/// Writes a private key readable by its owner only (0600 on Unix), as `openssl genpkey`
/// does: `cargo run -p certs -- DIR` may write into a shared folder. A file that was there
/// already gets the same mode.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let f = options.open(path)?;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        io::Write::write_all(&mut &f, bytes)
    }
    #[cfg(not(unix))]
    {
        io::Write::write_all(&mut options.open(path)?, bytes)
    }
}

/// SHA-256 fingerprint of a certificate, lowercase hex with colons.
pub fn fingerprint(cert: &X509) -> String {
    let d = cert
        .digest(openssl::hash::MessageDigest::sha256())
        .expect("digest");
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("PEM is ASCII")
}

/// Every identity of the workbook. Field names are also the file stems [`Files`] writes.
pub struct Pki {
    /// The root CA every good peer chains to (`ca.crt`).
    pub ca: Identity,
    /// An intermediate CA signed by `ca`.
    pub intermediate: Identity,
    /// A second, unrelated root (`other-ca.crt`) that nobody trusts by default.
    pub other_ca: Identity,
    /// Server for `localhost` and 127.0.0.1, signed directly by `ca` (P-256).
    pub server: Identity,
    /// The same names with an RSA-2048 key, signed by `ca`: see [`Pki::server_rsa`]. Made
    /// on first use, since generating an RSA key costs more than all the rest together.
    server_rsa: OnceLock<Identity>,
    /// What signs `server_rsa` when it is first asked for.
    ca_signer: Ca,
    /// Server signed by `intermediate`; its chain file holds leaf + intermediate.
    pub server_chain: Identity,
    /// Client certificate (CN `workbook client`), signed by `ca`.
    pub client: Identity,
    /// Client certificate signed by `other_ca`.
    pub client_other_ca: Identity,
    /// Client certificate (CN `workbook client via intermediate`) signed by `intermediate`;
    /// its chain file holds leaf + intermediate.
    pub client_chain: Identity,
    /// A root that stands in for the operating system's trust store (`system-ca.crt`):
    /// point `SSL_CERT_FILE` at it to see what a client trusts by default.
    pub system_ca: Identity,
    /// Server for `localhost` signed by `system_ca`.
    pub system_server: Identity,
    /// A second root with exactly the same subject name as `ca` but its own key
    /// (`ca-twin.crt`): both have one subject-name hash, so a hashed folder needs `.0` and `.1`.
    pub ca_twin: Identity,
    /// Server for `localhost` signed by `ca_twin`.
    pub server_twin: Identity,

    // The bad certificates of bad-peers.md, items 1-7.
    /// 1. Leaf whose validity ended 30 days ago.
    pub expired: Identity,
    /// Leaf that becomes valid in 30 days.
    pub not_yet_valid: Identity,
    /// 2. Good chain, but issued for `wrong.example`.
    pub wrong_host: Identity,
    /// 3. Self-signed leaf for `localhost`.
    pub self_signed: Identity,
    /// 4. Leaf for `localhost` signed by `other_ca`.
    pub untrusted: Identity,
    /// 5. `server_chain`'s leaf without its intermediate.
    pub missing_intermediate: Identity,
    /// 6. Leaf under two intermediates (`ca` -> `intermediate` -> `intermediate2` -> leaf).
    pub too_deep: Identity,
    /// 7. Leaf that `crl_pem` lists as revoked.
    pub revoked: Identity,
    /// A CRL signed by `ca` that revokes `revoked` (`ca.crl`).
    pub crl_pem: String,
}

impl fmt::Debug for Pki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Without the RSA identity: printing should not make it.
        f.debug_list()
            .entries(self.identities_inner(false))
            .finish()
    }
}

impl Pki {
    /// Server for `localhost` and 127.0.0.1 with an RSA-2048 key, signed by `ca`.
    pub fn server_rsa(&self) -> &Identity {
        self.server_rsa.get_or_init(|| {
            rsa_key()
                .and_then(|key| {
                    leaf(
                        "server-rsa",
                        server_params("localhost", HOST)?,
                        key,
                        &self.ca_signer,
                    )
                })
                .expect("generate the RSA server identity")
        })
    }

    /// All identities, for writing and listing.
    pub fn identities(&self) -> Vec<&Identity> {
        self.identities_inner(true)
    }

    fn identities_inner(&self, with_rsa: bool) -> Vec<&Identity> {
        let rsa = if with_rsa {
            Some(self.server_rsa())
        } else {
            None
        };
        vec![
            &self.ca,
            &self.intermediate,
            &self.other_ca,
            &self.server,
            &self.server_chain,
            &self.client,
            &self.client_other_ca,
            &self.client_chain,
            &self.system_ca,
            &self.system_server,
            &self.ca_twin,
            &self.server_twin,
            &self.expired,
            &self.not_yet_valid,
            &self.wrong_host,
            &self.self_signed,
            &self.untrusted,
            &self.missing_intermediate,
            &self.too_deep,
            &self.revoked,
        ]
        .into_iter()
        .chain(rsa)
        .collect()
    }

    /// Writes every file of the set into `dir`, which must exist.
    pub fn write_into(&self, dir: &Path) -> io::Result<()> {
        self.write_cheap_files(dir, true)?;
        self.server_rsa().write_into(dir, true)
    }

    /// Everything but the RSA identity, and the encrypted keys only if `encrypted`.
    fn write_cheap_files(&self, dir: &Path, encrypted: bool) -> io::Result<()> {
        for id in self.identities_inner(false) {
            id.write_into(dir, encrypted)?;
        }
        fs::write(dir.join("ca.crl"), &self.crl_pem)?;
        fs::write(dir.join("README.txt"), README)?;
        Ok(())
    }
}

const README: &str = "\
Made by `cargo run -p certs`: the workbook's certificates, fresh and valid for a year.

For each identity NAME:
  NAME.crt        the certificate (PEM)        NAME.crt.der   the same in DER
  NAME.chain.crt  certificate + intermediates  NAME.key       PKCS#8 private key (PEM)
  NAME.key.der    PKCS#8 key (DER)             NAME.legacy.key  \"BEGIN EC/RSA PRIVATE KEY\"
  NAME.enc.key    PKCS#8 key encrypted with the passphrase `workbook passphrase`
  NAME.intermediates.crt  only the intermediates, where there are any

ca.crt is the root to trust; ca.crl revokes revoked.crt. Try:
  openssl s_server -accept 127.0.0.1:4433 -cert server.crt -key server.key -www
  openssl s_client -connect 127.0.0.1:4433 -CAfile ca.crt -verify_hostname localhost
";

/// The set, made once per process on first use.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| make().expect("generate the workbook's certificates"))
}

/// The whole set written into a fresh temporary folder, removed when this is dropped.
/// Ask for files through [`Files::path`]: the RSA identity's files and the encrypted keys
/// are written there on first request.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> io::Result<Files> {
        let base = folder_base();
        remove_stale_folders(&base);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{FOLDER_PREFIX}{}-", std::process::id()))
            .tempdir_in(&base)?;
        // The RSA identity and the encrypted keys are written when a test first asks for
        // one of their files: few tests need them, and encrypting a key is slow on purpose.
        pki().write_cheap_files(dir.path(), false)?;
        Ok(Files { dir })
    }
    /// The folder itself.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    /// A file of the set by name, such as `"server.crt"`; panics if no such file was written,
    /// since that is a mistake in the test, not in the learner's code.
    pub fn path(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if !p.exists() && name.starts_with("server-rsa.") {
            pki()
                .server_rsa()
                .write_into(self.dir.path(), false)
                .expect("write the RSA identity");
        }
        if let Some(stem) = name.strip_suffix(".enc.key") {
            let id = match stem {
                "server-rsa" => Some(pki().server_rsa()),
                _ => pki()
                    .identities_inner(false)
                    .into_iter()
                    .find(|i| i.name == stem),
            };
            if let Some(id) = id {
                if !p.exists() {
                    id.write_encrypted_into(self.dir.path())
                        .expect("write an encrypted key");
                }
            }
        }
        assert!(p.exists(), "certs::Files has no file named {name:?}");
        p
    }
}

/// The start of every [`Files`] folder's name; the pid of the process that made it follows.
const FOLDER_PREFIX: &str = "workbook-certs-";

/// Where [`Files`] makes its folders: `$TMPDIR` when it is set, else `/dev/shm` (memory)
/// when it is there, else the system's temporary folder. Every test makes a folder of about
/// a hundred files and deletes it; on a disk file system that costs tens of milliseconds of
/// kernel time per folder (ext4 here: 90 ms), in memory about one, and the learner waits
/// for it after every save.
pub fn folder_base() -> PathBuf {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        if std::env::var_os("TMPDIR").is_none_or(|d| d.is_empty()) && shm.is_dir() {
            let probe = tempfile::Builder::new()
                .prefix(FOLDER_PREFIX)
                .tempdir_in(shm);
            if probe.is_ok() {
                return shm.to_path_buf();
            }
        }
        std::env::temp_dir()
    })
    .clone()
}

/// Removes the folders of [`Files`] whose process is gone. A folder is removed when its
/// [`Files`] is dropped, but a test program killed without unwinding (SIGKILL, or a chapter
/// test stopped by the workbook) drops nothing; the next one cleans up after it.
fn remove_stale_folders(base: &Path) {
    // Only where a live pid can be told from a dead one by looking.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(rd) = fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(FOLDER_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    id: Identity,
}

impl Ca {
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes).expect("random bytes");
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x10; // and never a short encoding
    SerialNumber::from_slice(&bytes)
}

fn params(cn: &str, sans: &[&str]) -> Result<CertificateParams, Error> {
    let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "TLS Workbook");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.not_before = now() - Duration::days(1);
    p.not_after = now() + Duration::days(365);
    p.serial_number = Some(random_serial());
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

fn ca_params(cn: &str) -> Result<CertificateParams, Error> {
    let mut p = params(cn, &[])?;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(p)
}

fn server_params(cn: &str, host: &str) -> Result<CertificateParams, Error> {
    let mut p = params(cn, &[host, "127.0.0.1"])?;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(p)
}

fn client_params(cn: &str) -> Result<CertificateParams, Error> {
    let mut p = params(cn, &[])?;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    Ok(p)
}

fn ec_key() -> Result<KeyPair, Error> {
    Ok(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?)
}

/// The RSA-2048 key of `server-rsa`, made once with `openssl genpkey` and kept here: making
/// one costs 0.15-0.45 s of CPU, and it would be made again in every test program that asks
/// for it, on every check. A key has no date, so the tests still do not depend on one: the
/// certificate on it is made fresh each run like every other. It guards nothing but the
/// tests' own connections on 127.0.0.1.
const SERVER_RSA_KEY: &str = include_str!("server-rsa.key");

fn rsa_key() -> Result<KeyPair, Error> {
    Ok(KeyPair::from_pem(SERVER_RSA_KEY)?)
}

fn to_identity(
    name: &'static str,
    der: &[u8],
    key: &KeyPair,
    intermediates: Vec<X509>,
) -> Result<Identity, Error> {
    Ok(Identity {
        name,
        cert: X509::from_der(der)?,
        key: PKey::private_key_from_pkcs8(key.serialized_der())?,
        intermediates,
    })
}

/// What a certificate signed by `issuer` must be sent with: the issuer and everything above
/// it, except the self-signed root.
fn chain_below(issuer: &Ca) -> Vec<X509> {
    let is_root = issuer.id.cert.issued(&issuer.id.cert) == openssl::x509::X509VerifyResult::OK;
    if is_root {
        return vec![];
    }
    let mut chain = vec![issuer.id.cert.clone()];
    chain.extend(issuer.id.intermediates.iter().cloned());
    chain
}

fn make_ca(name: &'static str, cn: &str, parent: Option<&Ca>) -> Result<Ca, Error> {
    let params = ca_params(cn)?;
    let key = ec_key()?;
    let (der, chain) = match parent {
        None => (params.self_signed(&key)?.der().to_vec(), vec![]),
        Some(p) => (
            params.signed_by(&key, &p.issuer())?.der().to_vec(),
            chain_below(p),
        ),
    };
    let id = to_identity(name, &der, &key, chain)?;
    Ok(Ca { params, key, id })
}

fn leaf(
    name: &'static str,
    params: CertificateParams,
    key: KeyPair,
    issuer: &Ca,
) -> Result<Identity, Error> {
    let der = params.signed_by(&key, &issuer.issuer())?.der().to_vec();
    to_identity(name, &der, &key, chain_below(issuer))
}

fn make() -> Result<Pki, Error> {
    let ca = make_ca("ca", "TLS Workbook Root CA", None)?;
    let intermediate = make_ca("intermediate", "TLS Workbook Intermediate CA", Some(&ca))?;
    let intermediate2 = make_ca(
        "intermediate2",
        "TLS Workbook Second Intermediate",
        Some(&intermediate),
    )?;
    let other_ca = make_ca("other-ca", "Somebody Else's Root CA", None)?;

    let server = leaf("server", server_params("localhost", HOST)?, ec_key()?, &ca)?;
    let server_chain = leaf(
        "server-chain",
        server_params("localhost", HOST)?,
        ec_key()?,
        &intermediate,
    )?;
    let client = leaf("client", client_params("workbook client")?, ec_key()?, &ca)?;
    let client_other_ca = leaf(
        "client-other-ca",
        client_params("stranger client")?,
        ec_key()?,
        &other_ca,
    )?;

    let client_chain = leaf(
        "client-chain",
        client_params("workbook client via intermediate")?,
        ec_key()?,
        &intermediate,
    )?;
    let system_ca = make_ca("system-ca", "Stand-in System Root CA", None)?;
    let system_server = leaf(
        "system-server",
        server_params("localhost", HOST)?,
        ec_key()?,
        &system_ca,
    )?;
    // Same subject name as `ca`, so the same subject-name hash.
    let ca_twin = make_ca("ca-twin", "TLS Workbook Root CA", None)?;
    let server_twin = leaf(
        "server-twin",
        server_params("localhost", HOST)?,
        ec_key()?,
        &ca_twin,
    )?;

    let mut p = server_params("localhost", HOST)?;
    p.not_before = now() - Duration::days(400);
    p.not_after = now() - Duration::days(30);
    let expired = leaf("expired", p, ec_key()?, &ca)?;

    let mut p = server_params("localhost", HOST)?;
    p.not_before = now() + Duration::days(30);
    p.not_after = now() + Duration::days(400);
    let not_yet_valid = leaf("not-yet-valid", p, ec_key()?, &ca)?;

    let wrong_host = leaf(
        "wrong-host",
        {
            let mut p = params("wrong.example", &["wrong.example"])?;
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            p
        },
        ec_key()?,
        &ca,
    )?;

    let self_signed = {
        let p = server_params("localhost", HOST)?;
        let key = ec_key()?;
        let der = p.self_signed(&key)?.der().to_vec();
        to_identity("self-signed", &der, &key, vec![])?
    };

    let untrusted = leaf(
        "untrusted",
        server_params("localhost", HOST)?,
        ec_key()?,
        &other_ca,
    )?;

    let missing_intermediate = Identity {
        name: "missing-intermediate",
        intermediates: vec![],
        ..server_chain.clone()
    };

    let too_deep = leaf(
        "too-deep",
        server_params("localhost", HOST)?,
        ec_key()?,
        &intermediate2,
    )?;

    let revoked_params = server_params("localhost", HOST)?;
    let revoked_serial = revoked_params
        .serial_number
        .clone()
        .expect("serial was set");
    let revoked = leaf("revoked", revoked_params, ec_key()?, &ca)?;
    let crl = CertificateRevocationListParams {
        this_update: now() - Duration::days(1),
        next_update: now() + Duration::days(30),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: revoked_serial,
            revocation_time: now() - Duration::hours(1),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca.issuer())?;

    Ok(Pki {
        intermediate: intermediate.id,
        other_ca: other_ca.id,
        server,
        server_rsa: OnceLock::new(),
        server_chain,
        client,
        client_other_ca,
        client_chain,
        system_ca: system_ca.id,
        system_server,
        ca_twin: ca_twin.id,
        server_twin,
        expired,
        not_yet_valid,
        wrong_host,
        self_signed,
        untrusted,
        missing_intermediate,
        too_deep,
        revoked,
        crl_pem: crl.pem()?,
        ca: ca.id.clone(),
        ca_signer: ca,
    })
}
