/// The phases of one HTTP transaction, in the order the engine sees them.
///
/// Adapters call the engine once per phase they can observe; a phase an adapter
/// cannot see (an NGINX access-phase hook sees no response) is simply skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Request line and headers are known; the body is not.
    RequestHeaders,
    /// The request body (up to the inspection limit) is buffered.
    RequestBody,
    /// The upstream answered with a status and headers.
    ResponseHeaders,
    /// The response body (up to the inspection limit) is buffered.
    ResponseBody,
    /// The transaction is over; only recording happens here.
    Logging,
}

impl Phase {
    /// Stable lower-case name used in logs and the rule language.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::RequestHeaders => "request_headers",
            Phase::RequestBody => "request_body",
            Phase::ResponseHeaders => "response_headers",
            Phase::ResponseBody => "response_body",
            Phase::Logging => "logging",
        }
    }
}
