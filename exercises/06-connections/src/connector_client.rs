//! The worked example of chapter 06: a client made the everyday way, for comparison with the
//! one you write by hand. It is the same in the exercise and the solution.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use openssl::ssl::{SslConnector, SslStream};

use crate::Error;

/// The same job the everyday way, for comparison: `SslConnector` is a context with good
/// client defaults, and `configure()` makes one connection from it that already carries
/// the server's name (SNI and the certificate check), so there is nothing to set by hand.
pub fn connect_with_connector(
    connector: &SslConnector,
    server: SocketAddr,
    name: &str,
    limit: Duration,
) -> Result<SslStream<TcpStream>, Error> {
    let socket = TcpStream::connect_timeout(&server, limit)?;
    socket.set_read_timeout(Some(limit))?;
    socket.set_write_timeout(Some(limit))?;
    let one_connection = connector.configure()?;
    let tls = one_connection.connect(name, socket)?;
    Ok(tls)
}
