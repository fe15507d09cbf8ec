//! The SQL word table: keywords, literal words, type names, schema names
//! and functions of MySQL, PostgreSQL, MSSQL, Oracle and SQLite.
//!
//! One sorted constant slice, indexed by an open-addressing hash table
//! built at compile time (FNV-1a of the lower-cased word; words longer than
//! [`MAX_WORD`] bytes are never looked up). Each
//! entry gives the keyword the parser cares about ([`Kw`]), the function
//! category when the word is followed by `(` ([`Fc`]), and flags.

/// Longest word looked up in the table.
pub const MAX_WORD: usize = 24;

/// Keywords the parser tells apart; `None` is a plain identifier (or a
/// word such as a function or type name with no keyword role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kw {
    None,
    Select,
    From,
    Where,
    Union,
    Intersect,
    Except,
    Minus,
    All,
    Distinct,
    Top,
    Order,
    Group,
    By,
    Having,
    Limit,
    Offset,
    Into,
    Outfile,
    Insert,
    Update,
    Delete,
    Drop,
    Create,
    Alter,
    Truncate,
    Exec,
    Declare,
    Set,
    Shutdown,
    Waitfor,
    Delay,
    If,
    Begin,
    End,
    Case,
    When,
    Then,
    Else,
    And,
    Or,
    Xor,
    Not,
    /// LIKE, RLIKE, REGEXP, ILIKE, GLOB, DIV, MOD: binary operator words.
    OpWord,
    Sounds,
    Similar,
    To,
    Is,
    In,
    Between,
    Exists,
    As,
    Values,
    /// TABLE, DATABASE, VIEW, PROCEDURE ...: the object of DROP/CREATE.
    Object,
    Join,
    /// LEFT / RIGHT: a join side, or a function before `(`.
    Side,
    On,
    Using,
    Procedure,
    Asc,
    Collate,
    Escape,
    Binary,
    Interval,
    For,
    Fetch,
    With,
    Use,
    Goto,
    Call,
    Load,
    Copy,
    Grant,
    Null,
    Separator,
    Window,
    While,
    Do,
}

/// Function categories, by how telling a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fc {
    /// Not a known function.
    None,
    /// Delays the response: sleep, benchmark, pg_sleep, dbms_lock.sleep.
    Time,
    /// Raises an error that carries data: extractvalue, updatexml.
    Error,
    /// Reaches files, commands or the network: load_file, xp_cmdshell.
    Exec,
    /// Names the server, database or user: version, database, user.
    Info,
    /// Cuts and rebuilds values, typical of blind extraction: ascii,
    /// substring, char, concat, hex, if.
    Probe,
    /// JSON functions.
    Json,
    /// Common functions of ordinary queries: count, lower, max.
    Common,
}

impl Fc {
    /// The weight of a call in the function evidence of a breakout.
    pub fn weight(self) -> u8 {
        match self {
            Fc::Time | Fc::Error | Fc::Exec => 90,
            Fc::Info => 35,
            Fc::Probe | Fc::Json => 20,
            Fc::Common => 5,
            Fc::None => 0,
        }
    }
}

/// Usable as an operand without parentheses (NULL, TRUE, CURRENT_USER).
pub const LIT: u8 = 1;
/// A type name (after CAST .. AS, CONVERT, `::`).
pub const TYPE: u8 = 2;
/// Reserved: never an identifier or an alias.
pub const RES: u8 = 4;
/// A system catalog or schema (information_schema, sysobjects).
pub const SCHEMA: u8 = 8;
/// Starts a statement.
pub const STMT: u8 = 16;

#[derive(Debug, Clone, Copy)]
pub struct Word {
    pub name: &'static [u8],
    pub kw: Kw,
    pub fc: Fc,
    pub flags: u8,
}

/// The entry of an unknown word.
pub const UNKNOWN: Word = Word {
    name: b"",
    kw: Kw::None,
    fc: Fc::None,
    flags: 0,
};

/// Index of an unknown word.
pub const NONE: u16 = u16::MAX;

/// The entry at `idx` (an index from [`lookup`], or [`NONE`]).
pub fn word(idx: u16) -> &'static Word {
    WORDS.get(usize::from(idx)).unwrap_or(&UNKNOWN)
}

/// Slots of the hash table over [`WORDS`] (a power of two, about three
/// times the number of words).
const SLOTS: usize = 1024;

/// FNV-1a over lower-cased bytes, reduced to a slot.
pub const fn hash(lower: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < lower.len() {
        h ^= lower[i] as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    (h as usize) & (SLOTS - 1)
}

/// Open addressing with linear probing, built at compile time.
const TABLE: [u16; SLOTS] = {
    let mut t = [NONE; SLOTS];
    let mut i = 0;
    while i < WORDS.len() {
        let mut h = hash(WORDS[i].name);
        while t[h] != NONE {
            h = (h + 1) & (SLOTS - 1);
        }
        t[h] = i as u16;
        i += 1;
    }
    t
};

/// Looks up a lower-cased word: one hash, usually one comparison.
pub fn lookup(lower: &[u8]) -> u16 {
    let mut h = hash(lower);
    // The table is never full: the probe meets an empty slot.
    for _ in 0..SLOTS {
        let idx = TABLE[h];
        if idx == NONE {
            return NONE;
        }
        if word(idx).name == lower {
            return idx;
        }
        h = (h + 1) & (SLOTS - 1);
    }
    NONE
}

const fn w(name: &'static [u8], kw: Kw, fc: Fc, flags: u8) -> Word {
    Word {
        name,
        kw,
        fc,
        flags,
    }
}

use Fc as F;
use Kw as K;

// Sorted by name (a unit test checks it), for the reader.
pub const WORDS: &[Word] = &[
    w(b"abs", K::None, F::Common, 0),
    w(b"aes_decrypt", K::None, F::Probe, 0),
    w(b"aes_encrypt", K::None, F::Probe, 0),
    w(b"all", K::All, F::None, RES),
    w(b"all_tab_columns", K::None, F::None, SCHEMA),
    w(b"all_tables", K::None, F::None, SCHEMA),
    w(b"all_users", K::None, F::None, SCHEMA),
    w(b"alter", K::Alter, F::None, RES | STMT),
    w(b"analyse", K::None, F::None, 0),
    w(b"and", K::And, F::None, RES),
    w(b"array_agg", K::None, F::Probe, 0),
    w(b"array_to_json", K::None, F::Json, 0),
    w(b"array_to_string", K::None, F::Probe, 0),
    w(b"as", K::As, F::None, RES),
    w(b"asc", K::Asc, F::None, RES),
    w(b"ascii", K::None, F::Probe, 0),
    w(b"avg", K::None, F::Common, 0),
    w(b"begin", K::Begin, F::None, STMT),
    w(b"benchmark", K::None, F::Time, 0),
    w(b"between", K::Between, F::None, RES),
    w(b"bigint", K::None, F::None, TYPE),
    w(b"bin", K::None, F::Probe, 0),
    w(b"binary", K::Binary, F::None, TYPE),
    w(b"bit", K::None, F::None, TYPE),
    w(b"bit_length", K::None, F::Probe, 0),
    w(b"blob", K::None, F::None, TYPE),
    w(b"bool", K::None, F::None, TYPE),
    w(b"boolean", K::None, F::None, TYPE),
    w(b"by", K::By, F::None, RES),
    w(b"call", K::Call, F::None, STMT),
    w(b"case", K::Case, F::None, RES),
    w(b"cast", K::None, F::Probe, 0),
    w(b"ceil", K::None, F::Common, 0),
    w(b"ceiling", K::None, F::Common, 0),
    w(b"char", K::None, F::Probe, TYPE),
    w(b"char_length", K::None, F::Probe, 0),
    w(b"character_length", K::None, F::Probe, 0),
    w(b"charindex", K::None, F::Probe, 0),
    w(b"charset", K::None, F::Probe, 0),
    w(b"chr", K::None, F::Probe, 0),
    w(b"clob", K::None, F::None, TYPE),
    w(b"coalesce", K::None, F::Probe, 0),
    w(b"coercibility", K::None, F::Probe, 0),
    w(b"col_name", K::None, F::Info, 0),
    w(b"collate", K::Collate, F::None, RES),
    w(b"collation", K::None, F::Probe, 0),
    w(b"compress", K::None, F::Probe, 0),
    w(b"concat", K::None, F::Probe, 0),
    w(b"concat_ws", K::None, F::Probe, 0),
    w(b"connection_id", K::None, F::Info, 0),
    w(b"conv", K::None, F::Probe, 0),
    w(b"convert", K::None, F::Probe, 0),
    w(b"copy", K::Copy, F::None, STMT),
    w(b"cos", K::None, F::Common, 0),
    w(b"cot", K::None, F::Common, 0),
    w(b"count", K::None, F::Common, 0),
    w(b"crc32", K::None, F::Probe, 0),
    w(b"create", K::Create, F::None, RES | STMT),
    w(b"cross", K::Join, F::None, RES),
    w(b"curdate", K::None, F::Common, 0),
    w(b"current_database", K::None, F::Info, 0),
    w(b"current_date", K::None, F::Common, LIT),
    w(b"current_role", K::None, F::Info, LIT),
    w(b"current_schema", K::None, F::Info, LIT),
    w(b"current_setting", K::None, F::Info, 0),
    w(b"current_time", K::None, F::Common, LIT),
    w(b"current_timestamp", K::None, F::Common, LIT),
    w(b"current_user", K::None, F::Info, LIT),
    w(b"curtime", K::None, F::Common, 0),
    w(b"database", K::Object, F::Info, 0),
    w(b"date", K::None, F::Common, TYPE),
    w(b"datetime", K::None, F::None, TYPE),
    w(b"db_id", K::None, F::Info, 0),
    w(b"db_name", K::None, F::Info, 0),
    w(b"dba_tables", K::None, F::None, SCHEMA),
    w(b"dba_users", K::None, F::None, SCHEMA),
    w(b"dblink", K::None, F::Exec, 0),
    w(b"dblink_exec", K::None, F::Exec, 0),
    w(b"decimal", K::None, F::None, TYPE),
    w(b"declare", K::Declare, F::None, STMT),
    w(b"decode", K::None, F::Probe, 0),
    w(b"default", K::None, F::None, LIT | RES),
    w(b"delay", K::Delay, F::None, 0),
    w(b"delete", K::Delete, F::None, RES | STMT),
    w(b"desc", K::Asc, F::None, RES),
    w(b"difference", K::None, F::Probe, 0),
    w(b"distinct", K::Distinct, F::None, RES),
    w(b"distinctrow", K::Distinct, F::None, RES),
    w(b"div", K::OpWord, F::None, RES),
    w(b"do", K::Do, F::None, 0),
    w(b"double", K::None, F::None, TYPE),
    w(b"drop", K::Drop, F::None, RES | STMT),
    w(b"dumpfile", K::Outfile, F::None, RES),
    w(b"else", K::Else, F::None, RES),
    w(b"elt", K::None, F::Probe, 0),
    w(b"encode", K::None, F::Probe, 0),
    w(b"end", K::End, F::None, RES),
    w(b"escape", K::Escape, F::None, 0),
    w(b"except", K::Except, F::None, RES),
    w(b"exec", K::Exec, F::None, RES | STMT),
    w(b"execute", K::Exec, F::None, RES | STMT),
    w(b"exists", K::Exists, F::None, RES),
    w(b"exp", K::None, F::Common, 0),
    w(b"extract", K::None, F::Probe, 0),
    w(b"extractvalue", K::None, F::Error, 0),
    w(b"false", K::Null, F::None, LIT | RES),
    w(b"fetch", K::Fetch, F::None, RES),
    w(b"field", K::None, F::Probe, 0),
    w(b"filetoblob", K::None, F::Exec, 0),
    w(b"filetoclob", K::None, F::Exec, 0),
    w(b"find_in_set", K::None, F::Probe, 0),
    w(b"float", K::None, F::None, TYPE),
    w(b"floor", K::None, F::Common, 0),
    w(b"for", K::For, F::None, RES),
    w(b"found_rows", K::None, F::Info, 0),
    w(b"from", K::From, F::None, RES),
    w(b"from_base64", K::None, F::Probe, 0),
    w(b"full", K::Join, F::None, RES),
    w(b"function", K::Object, F::None, 0),
    w(b"geometrycollection", K::None, F::Error, 0),
    w(b"get_lock", K::None, F::Time, 0),
    w(b"getdate", K::None, F::Common, 0),
    w(b"glob", K::OpWord, F::None, 0),
    w(b"goto", K::Goto, F::None, STMT),
    w(b"grant", K::Grant, F::None, RES | STMT),
    w(b"greatest", K::None, F::Common, 0),
    w(b"group", K::Group, F::None, RES),
    w(b"group_concat", K::None, F::Probe, 0),
    w(b"gtid_subset", K::None, F::Error, 0),
    w(b"gtid_subtract", K::None, F::Error, 0),
    w(b"has_dbaccess", K::None, F::Info, 0),
    w(b"having", K::Having, F::None, RES),
    w(b"hex", K::None, F::Probe, 0),
    w(b"host_name", K::None, F::Info, 0),
    w(b"httpuritype", K::None, F::Exec, 0),
    w(b"if", K::If, F::Probe, STMT),
    w(b"ifnull", K::None, F::Probe, 0),
    w(b"iif", K::None, F::Probe, 0),
    w(b"ilike", K::OpWord, F::None, RES),
    w(b"in", K::In, F::None, RES),
    w(b"index", K::Object, F::None, 0),
    w(b"inet_server_addr", K::None, F::Info, 0),
    w(b"information_schema", K::None, F::None, SCHEMA),
    w(b"inner", K::Join, F::None, RES),
    w(b"insert", K::Insert, F::Probe, RES | STMT),
    w(b"instr", K::None, F::Probe, 0),
    w(b"int", K::None, F::None, TYPE),
    w(b"integer", K::None, F::None, TYPE),
    w(b"intersect", K::Intersect, F::None, RES),
    w(b"interval", K::Interval, F::Common, 0),
    w(b"into", K::Into, F::None, RES),
    w(b"is", K::Is, F::None, RES),
    w(b"is_member", K::None, F::Info, 0),
    w(b"is_srvrolemember", K::None, F::Info, 0),
    w(b"isnull", K::None, F::Probe, 0),
    w(b"join", K::Join, F::None, RES),
    w(b"json", K::None, F::None, TYPE),
    w(b"json_array", K::None, F::Json, 0),
    w(b"json_array_length", K::None, F::Json, 0),
    w(b"json_contains", K::None, F::Json, 0),
    w(b"json_depth", K::None, F::Json, 0),
    w(b"json_each", K::None, F::Json, 0),
    w(b"json_extract", K::None, F::Json, 0),
    w(b"json_extract_path", K::None, F::Json, 0),
    w(b"json_extract_path_text", K::None, F::Json, 0),
    w(b"json_keys", K::None, F::Json, 0),
    w(b"json_length", K::None, F::Json, 0),
    w(b"json_object", K::None, F::Json, 0),
    w(b"json_query", K::None, F::Json, 0),
    w(b"json_search", K::None, F::Json, 0),
    w(b"json_type", K::None, F::Json, 0),
    w(b"json_typeof", K::None, F::Json, 0),
    w(b"json_unquote", K::None, F::Json, 0),
    w(b"json_valid", K::None, F::Json, 0),
    w(b"json_value", K::None, F::Json, 0),
    w(b"jsonb", K::None, F::None, TYPE),
    w(b"jsonb_array_length", K::None, F::Json, 0),
    w(b"jsonb_each", K::None, F::Json, 0),
    w(b"jsonb_extract_path", K::None, F::Json, 0),
    w(b"jsonb_extract_path_text", K::None, F::Json, 0),
    w(b"jsonb_path_query", K::None, F::Json, 0),
    w(b"jsonb_typeof", K::None, F::Json, 0),
    w(b"last_insert_id", K::None, F::Info, 0),
    w(b"lcase", K::None, F::Common, 0),
    w(b"least", K::None, F::Common, 0),
    w(b"left", K::Side, F::Probe, RES),
    w(b"len", K::None, F::Probe, 0),
    w(b"length", K::None, F::Probe, 0),
    w(b"like", K::OpWord, F::None, RES),
    w(b"limit", K::Limit, F::None, RES),
    w(b"linestring", K::None, F::Error, 0),
    w(b"listagg", K::None, F::Probe, 0),
    w(b"lo_export", K::None, F::Exec, 0),
    w(b"lo_get", K::None, F::Exec, 0),
    w(b"lo_import", K::None, F::Exec, 0),
    w(b"load", K::Load, F::None, STMT),
    w(b"load_extension", K::None, F::Exec, 0),
    w(b"load_file", K::None, F::Exec, 0),
    w(b"localtime", K::None, F::Common, LIT),
    w(b"localtimestamp", K::None, F::Common, LIT),
    w(b"locate", K::None, F::Probe, 0),
    w(b"lower", K::None, F::Common, 0),
    w(b"lpad", K::None, F::Probe, 0),
    w(b"ltrim", K::None, F::Common, 0),
    w(b"make_set", K::None, F::Probe, 0),
    w(b"max", K::None, F::Common, TYPE),
    w(b"md5", K::None, F::Probe, 0),
    w(b"mid", K::None, F::Probe, 0),
    w(b"min", K::None, F::Common, 0),
    w(b"minus", K::Minus, F::None, 0),
    w(b"mod", K::OpWord, F::Common, 0),
    w(b"msysobjects", K::None, F::None, SCHEMA),
    w(b"multilinestring", K::None, F::Error, 0),
    w(b"multipoint", K::None, F::Error, 0),
    w(b"multipolygon", K::None, F::Error, 0),
    w(b"name_const", K::None, F::Error, 0),
    w(b"natural", K::Join, F::None, RES),
    w(b"nchar", K::None, F::Probe, TYPE),
    w(b"not", K::Not, F::None, RES),
    w(b"now", K::None, F::Common, 0),
    w(b"ntext", K::None, F::None, TYPE),
    w(b"null", K::Null, F::None, LIT | RES),
    w(b"nullif", K::None, F::Probe, 0),
    w(b"numeric", K::None, F::None, TYPE),
    w(b"nvarchar", K::None, F::None, TYPE),
    w(b"nvl", K::None, F::Probe, 0),
    w(b"nvl2", K::None, F::Probe, 0),
    w(b"object_id", K::None, F::Info, 0),
    w(b"object_name", K::None, F::Info, 0),
    w(b"octet_length", K::None, F::Probe, 0),
    w(b"offset", K::Offset, F::None, RES),
    w(b"on", K::On, F::None, RES),
    w(b"opendatasource", K::None, F::Exec, 0),
    w(b"openjson", K::None, F::Json, 0),
    w(b"openquery", K::None, F::Exec, 0),
    w(b"openrowset", K::None, F::Exec, 0),
    w(b"or", K::Or, F::None, RES),
    w(b"ord", K::None, F::Probe, 0),
    w(b"order", K::Order, F::None, RES),
    w(b"outer", K::Join, F::None, RES),
    w(b"outfile", K::Outfile, F::None, RES),
    w(b"password", K::None, F::Probe, 0),
    w(b"patindex", K::None, F::Probe, 0),
    w(b"pg_backend_pid", K::None, F::Info, 0),
    w(b"pg_catalog", K::None, F::None, SCHEMA),
    w(b"pg_database", K::None, F::None, SCHEMA),
    w(b"pg_ls_dir", K::None, F::Exec, 0),
    w(b"pg_read_binary_file", K::None, F::Exec, 0),
    w(b"pg_read_file", K::None, F::Exec, 0),
    w(b"pg_shadow", K::None, F::None, SCHEMA),
    w(b"pg_sleep", K::None, F::Time, 0),
    w(b"pg_sleep_for", K::None, F::Time, 0),
    w(b"pg_sleep_until", K::None, F::Time, 0),
    w(b"pg_stat_file", K::None, F::Exec, 0),
    w(b"pg_stat_user_tables", K::None, F::None, SCHEMA),
    w(b"pg_tables", K::None, F::None, SCHEMA),
    w(b"pg_user", K::None, F::None, SCHEMA),
    w(b"polygon", K::None, F::Error, 0),
    w(b"position", K::None, F::Probe, 0),
    w(b"pow", K::None, F::Common, 0),
    w(b"power", K::None, F::Common, 0),
    w(b"procedure", K::Procedure, F::None, RES),
    w(b"quote", K::None, F::Probe, 0),
    w(b"quote_ident", K::None, F::Probe, 0),
    w(b"quotename", K::None, F::Probe, 0),
    w(b"rand", K::None, F::Probe, 0),
    w(b"random", K::None, F::Probe, 0),
    w(b"randomblob", K::None, F::Time, 0),
    w(b"readfile", K::None, F::Exec, 0),
    w(b"real", K::None, F::None, TYPE),
    w(b"regexp", K::OpWord, F::None, RES),
    w(b"regexp_like", K::None, F::Probe, 0),
    w(b"regexp_replace", K::None, F::Probe, 0),
    w(b"regexp_substr", K::None, F::Probe, 0),
    w(b"repeat", K::None, F::Probe, 0),
    w(b"replace", K::None, F::Probe, 0),
    w(b"replicate", K::None, F::Probe, 0),
    w(b"reverse", K::None, F::Probe, 0),
    w(b"right", K::Side, F::Probe, RES),
    w(b"rlike", K::OpWord, F::None, RES),
    w(b"round", K::None, F::Common, 0),
    w(b"row_count", K::None, F::Info, 0),
    w(b"row_to_json", K::None, F::Json, 0),
    w(b"rownum", K::None, F::None, LIT),
    w(b"rpad", K::None, F::Probe, 0),
    w(b"rtrim", K::None, F::Common, 0),
    w(b"schema", K::Object, F::Info, 0),
    w(b"select", K::Select, F::None, RES | STMT),
    w(b"separator", K::Separator, F::None, 0),
    w(b"serverproperty", K::None, F::Info, 0),
    w(b"session_user", K::None, F::Info, LIT),
    w(b"set", K::Set, F::None, RES | STMT),
    w(b"sha1", K::None, F::Probe, 0),
    w(b"sha2", K::None, F::Probe, 0),
    w(b"shutdown", K::Shutdown, F::None, STMT),
    w(b"signed", K::None, F::None, TYPE),
    w(b"similar", K::Similar, F::None, 0),
    w(b"sin", K::None, F::Common, 0),
    w(b"sleep", K::None, F::Time, 0),
    w(b"smallint", K::None, F::None, TYPE),
    w(b"soundex", K::None, F::Probe, 0),
    w(b"sounds", K::Sounds, F::None, 0),
    w(b"space", K::None, F::Probe, 0),
    w(b"sql_variant", K::None, F::None, TYPE),
    w(b"sqlite_master", K::None, F::None, SCHEMA),
    w(b"sqlite_schema", K::None, F::None, SCHEMA),
    w(b"sqlite_temp_master", K::None, F::None, SCHEMA),
    w(b"sqlite_version", K::None, F::Info, 0),
    w(b"st_latfromgeohash", K::None, F::Error, 0),
    w(b"st_longfromgeohash", K::None, F::Error, 0),
    w(b"st_pointfromgeohash", K::None, F::Error, 0),
    w(b"straight_join", K::Join, F::None, RES),
    w(b"strcmp", K::None, F::Probe, 0),
    w(b"string_agg", K::None, F::Probe, 0),
    w(b"stuff", K::None, F::Probe, 0),
    w(b"substr", K::None, F::Probe, 0),
    w(b"substring", K::None, F::Probe, 0),
    w(b"substring_index", K::None, F::Probe, 0),
    w(b"sum", K::None, F::Common, 0),
    w(b"suser_name", K::None, F::Info, 0),
    w(b"suser_sname", K::None, F::Info, 0),
    w(b"sys_context", K::None, F::Info, 0),
    w(b"sys_eval", K::None, F::Exec, 0),
    w(b"sys_exec", K::None, F::Exec, 0),
    w(b"syscolumns", K::None, F::None, SCHEMA),
    w(b"sysdatabases", K::None, F::None, SCHEMA),
    w(b"sysdate", K::None, F::Common, LIT),
    w(b"syslogins", K::None, F::None, SCHEMA),
    w(b"sysobjects", K::None, F::None, SCHEMA),
    w(b"system_user", K::None, F::Info, LIT),
    w(b"sysusers", K::None, F::None, SCHEMA),
    w(b"table", K::Object, F::None, RES),
    w(b"text", K::None, F::None, TYPE),
    w(b"then", K::Then, F::None, RES),
    w(b"time", K::None, F::Common, TYPE),
    w(b"timestamp", K::None, F::Common, TYPE),
    w(b"tinyint", K::None, F::None, TYPE),
    w(b"to", K::To, F::None, 0),
    w(b"to_base64", K::None, F::Probe, 0),
    w(b"to_char", K::None, F::Probe, 0),
    w(b"to_hex", K::None, F::Probe, 0),
    w(b"to_json", K::None, F::Json, 0),
    w(b"to_number", K::None, F::Probe, 0),
    w(b"top", K::Top, F::None, 0),
    w(b"trigger", K::Object, F::None, 0),
    w(b"trim", K::None, F::Common, 0),
    w(b"true", K::Null, F::None, LIT | RES),
    w(b"truncate", K::Truncate, F::None, STMT),
    w(b"ucase", K::None, F::Common, 0),
    w(b"uncompress", K::None, F::Probe, 0),
    w(b"unhex", K::None, F::Probe, 0),
    w(b"unicode", K::None, F::Probe, 0),
    w(b"union", K::Union, F::None, RES),
    w(b"unistr", K::None, F::Probe, 0),
    w(b"unknown", K::Null, F::None, LIT),
    w(b"unsigned", K::None, F::None, TYPE),
    w(b"update", K::Update, F::None, RES | STMT),
    w(b"updatexml", K::None, F::Error, 0),
    w(b"upper", K::None, F::Common, 0),
    w(b"use", K::Use, F::None, STMT),
    w(b"user", K::Object, F::Info, 0),
    w(b"user_name", K::None, F::Info, 0),
    w(b"user_tab_columns", K::None, F::None, SCHEMA),
    w(b"user_tables", K::None, F::None, SCHEMA),
    w(b"using", K::Using, F::None, RES),
    w(b"utc_date", K::None, F::Common, LIT),
    w(b"utc_time", K::None, F::Common, LIT),
    w(b"utc_timestamp", K::None, F::Common, LIT),
    w(b"uuid", K::None, F::Common, 0),
    w(b"values", K::Values, F::None, RES),
    w(b"varbinary", K::None, F::None, TYPE),
    w(b"varchar", K::None, F::None, TYPE),
    w(b"varchar2", K::None, F::None, TYPE),
    w(b"version", K::None, F::Info, 0),
    w(b"view", K::Object, F::None, 0),
    w(b"waitfor", K::Waitfor, F::None, STMT),
    w(b"when", K::When, F::None, RES),
    w(b"where", K::Where, F::None, RES),
    w(b"while", K::While, F::None, STMT),
    w(b"window", K::Window, F::None, 0),
    w(b"with", K::With, F::None, RES),
    w(b"writefile", K::None, F::Exec, 0),
    w(b"xml", K::None, F::None, TYPE),
    w(b"xmlagg", K::None, F::Probe, 0),
    w(b"xmlelement", K::None, F::Probe, 0),
    w(b"xmltype", K::None, F::Error, 0),
    w(b"xor", K::Xor, F::None, RES),
];

/// The category of a function named by a qualified name whose first part
/// is `qual` (Oracle packages, MSSQL `master..xp_cmdshell`).
pub fn qualifier_category(qual: &[u8]) -> Fc {
    match qual {
        b"dbms_lock" | b"dbms_pipe" | b"dbms_session" => Fc::Time,
        b"utl_inaddr" | b"utl_http" | b"utl_file" | b"utl_tcp" | b"dbms_java"
        | b"dbms_scheduler" | b"dbms_ldap" => Fc::Exec,
        b"ctxsys" | b"dbms_xmlgen" | b"dbms_utility" | b"dbms_xdb" => Fc::Error,
        b"sys" | b"master" | b"dbo" => Fc::None,
        _ => Fc::None,
    }
}

/// The category of a function by its name when the table does not know it:
/// the MSSQL extended procedures (`xp_*`) and the dangerous system
/// procedures.
pub fn prefix_category(lower: &[u8]) -> Fc {
    if lower.starts_with(b"xp_") && lower.len() > 3 {
        return Fc::Exec;
    }
    match lower {
        b"sp_executesql"
        | b"sp_oacreate"
        | b"sp_oamethod"
        | b"sp_oagetproperty"
        | b"sp_makewebtask"
        | b"sp_addextendedproc"
        | b"sp_configure"
        | b"sp_addlogin"
        | b"sp_addsrvrolemember"
        | b"sp_password"
        | b"sp_execute"
        | b"sp_prepare"
        | b"sp_sys_protoop"
        | b"sp_helpdb"
        | b"sp_who"
        | b"sp_adduser"
        | b"sp_dropextendedproc" => Fc::Exec,
        _ => Fc::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_lower_case_and_short() {
        for pair in WORDS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{:?} before {:?}",
                String::from_utf8_lossy(pair[0].name),
                String::from_utf8_lossy(pair[1].name)
            );
        }
        for w in WORDS {
            assert!(w.name.len() <= MAX_WORD);
            assert!(!w.name.iter().any(u8::is_ascii_uppercase));
        }
        assert!(WORDS.len() * 2 < SLOTS);
        for (i, w) in WORDS.iter().enumerate() {
            assert_eq!(usize::from(lookup(w.name)), i);
        }
        assert_eq!(word(lookup(b"select")).kw, Kw::Select);
        assert_eq!(word(lookup(b"selects")).kw, Kw::None);
        assert_eq!(word(NONE).kw, Kw::None);
    }
}
