//! The edge cases the generators favour: values around every boundary of
//! behaviour.md, spellings that parsers disagree on, and the names of the
//! default world (`cases/world.yaml`).
//!
//! A uniform random string almost never hits `101` or a 65-character token;
//! these lists make each boundary a one-in-a-few choice instead.

/// Instances of the default world, then ids that must be R1 or P1.
pub(crate) const INSTANCE_IDS: &[&str] = &["i-stopped", "i-running", "i-vpc"];
pub(crate) const ODD_INSTANCE_IDS: &[&str] = &[
    "",
    "i-unknown",
    "I-RUNNING",
    "i-running ",
    " i-stopped",
    "i-vpc\u{0}",
    "i-é",
];

/// Catalog types of the default world: every C rule has one.
pub(crate) const TYPES: &[&str] = &[
    "ecs.g6.xlarge",
    "ecs.c6.large",
    "ecs.g8y.large",
    "ecs.gn7i.large",
    "ecs.t6.large",
    "ecs.hfg7.large",
    "ecs.e-c1m1.large",
    "ecs.g6.large",
];
pub(crate) const ODD_TYPES: &[&str] = &[
    "",
    "ecs.unknown.large",
    "ECS.G6.XLARGE",
    " ecs.g6.xlarge",
    "ecs.g6.xlarge\t",
];

/// InternetMaxBandwidthOut/In: every boundary of P3 (0..=100), P4
/// (1..=200), the price plans (50/100, 100/200) and the grammar.
pub(crate) const BANDWIDTHS: &[&str] = &[
    "-1", "0", "1", "2", "5", "7", "10", "49", "50", "51", "99", "100", "101", "199", "200", "201",
];
/// Values inside the ranges (and the plans' maxima), for requests that
/// should get past P3/P4 to the rules behind them.
pub(crate) const VALID_OUT: &[&str] = &["0", "1", "5", "6", "7", "9", "49", "50", "51", "99", "100"];
pub(crate) const VALID_IN: &[&str] = &["1", "2", "9", "10", "11", "99", "100", "101", "199", "200"];
pub(crate) const ODD_NUMBERS: &[&str] = &[
    "",
    "007",
    "00",
    "-0",
    " 5",
    "5 ",
    "+5",
    "1.5",
    "1e2",
    "0x10",
    "５",
    "１００",
    "٣",
    "5\u{0}",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999",
    "4294967296",
    "4294967301",
];

/// ClientTokens: the P2 length boundary is 64 characters, the charset
/// printable ASCII.
pub(crate) const TOKEN_LENGTHS: &[usize] = &[0, 1, 63, 64, 65, 1000];
pub(crate) const ODD_TOKENS: &[&str] = &[
    "tok a b",
    "tok+1",
    "a&b=c%d/e",
    "~!@#%^&*()",
    "tok-é",
    "中文token",
    "tok🙂",
    "tok\u{0}",
    "tok\u{7}",
    "tok\u{7f}",
    "tok\t1",
    "\u{FFFD}",
    "\\uD800",
    " ",
];

/// Boolean spellings for DryRun, Async, AllowMigrateAcrossZone (P7).
pub(crate) const BOOLEANS: &[&str] = &[
    "true", "false", "True", "FALSE", "tRuE", "1", "0", "yes", "", " true", "true ",
];

/// SystemDisk.Category values (P8).
pub(crate) const CATEGORIES: &[&str] = &["cloud_efficiency", "cloud_ssd", "cloud", "CLOUD_SSD", "", "cloud_essd"];

/// Parameter names that are not operation parameters: ignored by a
/// conforming server (wrong case, known extras, unknown).
pub(crate) const OTHER_NAMES: &[&str] = &[
    "RegionId",
    "OwnerId",
    "ResourceOwnerAccount",
    "instanceId",
    "INSTANCEID",
    "instancetype",
    "internetMaxBandwidthOut",
    "InternetMaxBandwidthin",
    "clientToken",
    "dryRun",
    "SystemDisk.category",
    "Foo",
    "X-Unknown",
];

/// `Format` values (G11, and the answer format).
pub(crate) const FORMATS: &[&str] = &["JSON", "XML", "json", "xml", "Xml", "", " JSON", "YAML", "JSONP"];

/// HTTP methods other than GET/POST (G1).
pub(crate) const BAD_METHODS: &[&str] = &["PUT", "DELETE", "PATCH"];

/// Clock moves: around the 5-minute window (T1) and the 60 s quota window.
pub(crate) const ADVANCES: &[u64] = &[1, 30, 59, 60, 61, 100, 200, 299, 300, 301, 600];

/// Clock moves inside and across the G12 quota's 60 s window.
pub(crate) const QUOTA_ADVANCES: &[u64] = &[1, 30, 59, 60];

/// Seeded `last_modified_seconds_ago` values (T1 from the world's start).
pub(crate) const SEEDED_AGO: &[u64] = &[0, 1, 100, 299, 300, 301];

/// `operation_seconds` values (I2: processing until then).
pub(crate) const OPERATION_SECONDS: &[u64] = &[0, 1, 60, 299, 300, 301];

/// Internet charge types: the two with plans and some B2 cases.
pub(crate) const CHARGE_TYPES: &[&str] = &["PayByTraffic", "PayByBandwidth", "PayByHour", "paybytraffic", ""];

/// Values that a V1/V3 common parameter or header must not take.
pub(crate) const BAD_ACTIONS: &[&str] = &["DescribeRegions", "modifyinstancespec", "ModifyInstanceSpec ", ""];
pub(crate) const BAD_VERSIONS: &[&str] = &["2015-01-01", "2014-5-26", "2014-05-26 "];
pub(crate) const BAD_TIMESTAMPS: &[&str] = &[
    "2024-01-01 12:00:00",
    "yesterday",
    "2024-13-01T12:00:00Z",
    "2024-01-01T12:00:00",
];
/// Far outside the 15-minute window (G7) and well inside it; never near
/// 900 s, where the wall clock between signing and checking would decide.
pub(crate) const TIMESTAMP_OFFSETS: &[i64] = &[-7200, -3600, -960, 960, 3600, -600, 600, -60];
pub(crate) const BAD_V1_METHODS: &[&str] = &["HMAC-SHA256", "hmac-sha1", "RSA"];
pub(crate) const BAD_V3_ALGORITHMS: &[&str] = &["ACS3-HMAC-SHA1", "ACS3-RSA-SHA256", "acs3-hmac-sha256"];
/// Nonces that cases reuse on purpose (G10).
pub(crate) const NONCES: &[&str] = &["fuzz-nonce-1", "fuzz-nonce-2"];
/// Tokens that steps of one case share, so sequences meet I1–I3.
pub(crate) const SHARED_TOKENS: &[&str] = &["fuzz-token-a", "fuzz-token-b"];
