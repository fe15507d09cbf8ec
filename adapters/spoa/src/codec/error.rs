//! SPOP status codes (SPOE.txt 3.5) and the decoding error that carries one.

use std::fmt;

/// The status codes of HAPROXY-DISCONNECT and AGENT-DISCONNECT frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Status {
    Normal = 0,
    Io = 1,
    Timeout = 2,
    TooBig = 3,
    Invalid = 4,
    NoVersion = 5,
    NoFrameSize = 6,
    NoCapabilities = 7,
    BadVersion = 8,
    BadFrameSize = 9,
    FragmentationUnsupported = 10,
    InterlacedFrames = 11,
    FrameIdNotFound = 12,
    ResourceAllocation = 13,
    Unknown = 99,
}

impl Status {
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The status for a code a peer sent; unknown codes map to `Unknown`.
    pub fn from_code(code: u64) -> Status {
        match code {
            0 => Status::Normal,
            1 => Status::Io,
            2 => Status::Timeout,
            3 => Status::TooBig,
            4 => Status::Invalid,
            5 => Status::NoVersion,
            6 => Status::NoFrameSize,
            7 => Status::NoCapabilities,
            8 => Status::BadVersion,
            9 => Status::BadFrameSize,
            10 => Status::FragmentationUnsupported,
            11 => Status::InterlacedFrames,
            12 => Status::FrameIdNotFound,
            13 => Status::ResourceAllocation,
            _ => Status::Unknown,
        }
    }

    /// The message sent with the code (SPOE.txt's wording).
    pub fn message(self) -> &'static str {
        match self {
            Status::Normal => "normal",
            Status::Io => "I/O error",
            Status::Timeout => "a timeout occurred",
            Status::TooBig => "frame is too big",
            Status::Invalid => "invalid frame received",
            Status::NoVersion => "version value not found",
            Status::NoFrameSize => "max-frame-size value not found",
            Status::NoCapabilities => "capabilities value not found",
            Status::BadVersion => "unsupported version",
            Status::BadFrameSize => "max-frame-size too big or too small",
            Status::FragmentationUnsupported => "payload fragmentation is not supported",
            Status::InterlacedFrames => "invalid interlaced frames",
            Status::FrameIdNotFound => "frame-id not found",
            Status::ResourceAllocation => "resource allocation error",
            Status::Unknown => "an unknown error occurred",
        }
    }
}

/// Why a frame could not be read: the status to disconnect with and a short
/// description of what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub status: Status,
    pub what: &'static str,
}

impl DecodeError {
    pub fn new(status: Status, what: &'static str) -> DecodeError {
        DecodeError { status, what }
    }

    pub(crate) fn invalid(what: &'static str) -> DecodeError {
        DecodeError::new(Status::Invalid, what)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what, self.status.message())
    }
}

impl std::error::Error for DecodeError {}
