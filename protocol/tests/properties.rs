//! Property tests of the pure logic both sides run on untrusted input: the
//! redis-cli splitter, the paste rules, `format_cli`, and the wire types.
//! A modest number of cases per property keeps `make test` quick; a
//! failure prints the shrunk input to paste into a unit test.

use proptest::prelude::*;
use protocol::{
    format_cli, format_cli_for, split_args, ClientMessage, Place, Reply, RoomClientMessage,
    RoomServerMessage, ServerMessage,
};

/// 256 cases per property in `make test`; `make fuzz` sets
/// `PROPTEST_CASES` for many more.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// `args` as redis-cli would need them typed: each one double-quoted,
/// every byte that is not plain printable ASCII written `\xHH`.
fn quote(args: &[Vec<u8>]) -> Vec<u8> {
    let mut line = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        line.push(b'"');
        for &b in arg {
            match b {
                b'"' | b'\\' => line.extend_from_slice(&[b'\\', b]),
                0x20..=0x7e => line.push(b),
                _ => line.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        line.push(b'"');
    }
    line
}

/// Any reply the server could hand `format_cli`, nested a few levels.
fn reply() -> impl Strategy<Value = Reply> {
    let text = ".{0,24}";
    let leaf = prop_oneof![
        Just(Reply::Nil),
        text.prop_map(|text| Reply::Status { text }),
        text.prop_map(|text| Reply::Error { text }),
        any::<i64>().prop_map(|value| Reply::Integer { value }),
        (prop::collection::vec(any::<u8>(), 0..32), 0u64..3)
            .prop_map(|(data, omitted)| Reply::Bulk { data, omitted }),
        any::<f64>().prop_map(|value| Reply::Double { value }),
        any::<bool>().prop_map(|value| Reply::Boolean { value }),
        "[0-9-]{1,30}".prop_map(|text| Reply::BigNumber { text }),
        ("[a-z]{3}", text).prop_map(|(format, text)| Reply::Verbatim { format, text }),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..6), 0u64..3)
                .prop_map(|(items, omitted)| Reply::Array { items, omitted }),
            (prop::collection::vec(inner.clone(), 0..6), 0u64..3)
                .prop_map(|(items, omitted)| Reply::Set { items, omitted }),
            (
                prop::collection::vec((inner.clone(), inner.clone()), 0..4),
                0u64..3
            )
                .prop_map(|(entries, omitted)| Reply::Map { entries, omitted }),
            ("[a-z]{1,10}", prop::collection::vec(inner, 0..4))
                .prop_map(|(kind, items)| Reply::Push { kind, items }),
        ]
    })
}

/// Replies whose JSON round trip is exact (no NaN: it is not JSON).
fn json_reply() -> impl Strategy<Value = Reply> {
    reply().prop_filter("JSON has no NaN or infinity", |r| !has_odd_double(r))
}

fn has_odd_double(reply: &Reply) -> bool {
    match reply {
        Reply::Double { value } => !value.is_finite(),
        Reply::Array { items, .. } | Reply::Set { items, .. } | Reply::Push { items, .. } => {
            items.iter().any(has_odd_double)
        }
        Reply::Map { entries, .. } => entries
            .iter()
            .any(|(k, v)| has_odd_double(k) || has_odd_double(v)),
        _ => false,
    }
}

fn place() -> impl Strategy<Value = Place> {
    (".{0,16}", proptest::option::of(".{0,16}")).prop_map(|(lesson, step)| Place { lesson, step })
}

fn room_request() -> impl Strategy<Value = RoomClientMessage> {
    prop_oneof![
        ".{0,40}".prop_map(|token| RoomClientMessage::Hello { token }),
        any::<u64>().prop_map(|seq| RoomClientMessage::Ping { seq }),
        (any::<u64>(), any::<bool>()).prop_map(|(seq, on)| RoomClientMessage::Follow { seq, on }),
        (any::<u64>(), place()).prop_map(|(seq, place)| RoomClientMessage::Goto { seq, place }),
        (any::<u64>(), proptest::option::of(place()))
            .prop_map(|(seq, place)| RoomClientMessage::Pace { seq, place }),
        (any::<u64>(), ".{0,16}", any::<usize>())
            .prop_map(|(seq, lesson, task)| RoomClientMessage::Reveal { seq, lesson, task }),
        (any::<u64>(), proptest::option::of(".{0,16}"))
            .prop_map(|(seq, learner)| RoomClientMessage::Watch { seq, learner }),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Quoting any argument vector and splitting it gives it back.
    #[test]
    fn splitting_a_quoted_line_gives_back_its_arguments(
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..8)
    ) {
        let line = quote(&args);
        prop_assert_eq!(split_args(&line).expect("a quoted line splits"), args);
    }

    /// No line, however broken, makes the splitter panic.
    #[test]
    fn the_splitter_never_panics(line in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = split_args(&line);
    }

    /// The paste rules never panic, never run an empty line, and keep
    /// every physical line whole in strict mode.
    #[test]
    fn paste_lines_are_never_empty(text in "(.|\n|\r|\\\\|\"|'|#){0,200}", strict in any::<bool>()) {
        let lines = protocol::paste::console_lines(&text, strict);
        for line in &lines {
            prop_assert!(!line.trim().is_empty(), "an empty line would run: {:?}", lines);
            if strict {
                prop_assert!(!line.contains('\n'), "strict keeps physical lines: {:?}", line);
            }
        }
    }

    /// `format_cli` prints any reply without panicking, and so does the
    /// raw form chosen by the command's name.
    #[test]
    fn format_cli_never_panics(reply in reply(), command in "(INFO|GET|CLIENT LIST|LOLWUT|X)") {
        let text = format_cli(&reply);
        if matches!(reply, Reply::Nil) {
            prop_assert_eq!(text, "(nil)");
        }
        let args: Vec<&str> = command.split(' ').collect();
        let _ = format_cli_for(&args, &reply);
    }

    /// decode(encode(x)) == x for replies and the console's messages.
    #[test]
    fn wire_types_round_trip(reply in json_reply(), seq in any::<u64>(), line in ".{0,64}") {
        let json = serde_json::to_string(&reply).unwrap();
        prop_assert_eq!(serde_json::from_str::<Reply>(&json).unwrap(), reply.clone());
        let exec = ClientMessage::Exec { seq, line };
        let json = serde_json::to_string(&exec).unwrap();
        prop_assert_eq!(serde_json::from_str::<ClientMessage>(&json).unwrap(), exec);
    }

    #[test]
    fn room_messages_round_trip(message in room_request()) {
        let json = serde_json::to_string(&message).unwrap();
        prop_assert_eq!(serde_json::from_str::<RoomClientMessage>(&json).unwrap(), message);
    }

    /// Arbitrary bytes never make a decoder panic: they decode or are
    /// refused with an error.
    #[test]
    fn arbitrary_bytes_never_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<ClientMessage>(&bytes);
        let _ = serde_json::from_slice::<ServerMessage>(&bytes);
        let _ = serde_json::from_slice::<RoomClientMessage>(&bytes);
        let _ = serde_json::from_slice::<RoomServerMessage>(&bytes);
        let _ = serde_json::from_slice::<Reply>(&bytes);
    }

    /// Near-JSON (a message with one field broken) never panics either.
    #[test]
    fn mangled_messages_never_panic_a_decoder(
        message in room_request(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut json = serde_json::to_vec(&message).unwrap();
        let i = at.index(json.len());
        json[i] = byte;
        let _ = serde_json::from_slice::<RoomClientMessage>(&json);
    }
}

/// Deep nesting is refused, not a stack overflow (serde_json's limit).
#[test]
fn json_nested_ten_thousand_deep_is_refused() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(serde_json::from_str::<ClientMessage>(&deep).is_err());
    let deep = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    assert!(serde_json::from_str::<RoomClientMessage>(&deep).is_err());
}
