//! The requests of the `decode` bench, shared with
//! `examples/profile_detectors.rs` so both measure the same thing.

use rampart_core::Request;

pub fn get_5_params() -> Request {
    Request::new("GET", "/shop/search?q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42")
        .header("Host", "shop.example.com")
        .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36")
        .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .header("Accept-Language", "en-US,en;q=0.7")
        .header("Cookie", "session=3f2a9c1e8b7d4a6f; theme=dark; consent=yes")
}

/// A realistic 2 KB JSON API body: an order with items and an address.
pub fn json_2k() -> Vec<u8> {
    let mut items = Vec::new();
    for i in 0..12 {
        items.push(format!(
            "{{\"sku\":\"SKU-{i:05}\",\"name\":\"Trail running shoe model {i}\",\"qty\":{},\"price\":{}.99,\"tags\":[\"sale\",\"outdoor\"]}}",
            i % 3 + 1,
            40 + i
        ));
    }
    let body = format!(
        "{{\"order\":{{\"id\":\"9f1c2a7e-4b1d-4c3a-9e2f-1a2b3c4d5e6f\",\"customer\":{{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\",\"phone\":\"+44 20 7946 0958\"}},\"items\":[{}],\"shipping\":{{\"street\":\"12 Analytical Engine Way\",\"city\":\"London\",\"zip\":\"NW1 2DB\",\"country\":\"GB\"}},\"note\":\"Please leave the parcel with the neighbour if I'm not at home.\"}}}}",
        items.join(",")
    );
    body.into_bytes()
}

pub fn json_post() -> Request {
    let body = json_2k();
    Request::new("POST", "/api/orders")
        .header("Host", "shop.example.com")
        .header("Content-Type", "application/json")
        .header("Content-Length", &body.len().to_string())
        .body(body)
}

pub fn multipart_16k() -> Request {
    let boundary = "----rampartbench7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in [
        ("title", "Quarterly report"),
        ("author", "Grace Hopper"),
        ("tags", "finance,q3"),
    ] {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    let file: String = (0..15_500)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"report.txt\"\r\nContent-Type: text/plain\r\n\r\n{file}\r\n--{boundary}--\r\n")
            .as_bytes(),
    );
    Request::new("POST", "/upload")
        .header("Host", "shop.example.com")
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
}
