fn main() {
    let pack = distillguard::default_pack();
    for path in std::env::args().skip(1) {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            println!("{} {}", v["id"], pack.classify(v["text"].as_str().unwrap()).to_json());
        }
    }
}
