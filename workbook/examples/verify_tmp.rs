fn main() {
    let root = workbook::manifest::root().unwrap();
    let only = std::env::args().nth(1).map(|s| s.parse().unwrap());
    let ok = workbook::verify::run(&root, only).unwrap();
    std::process::exit(if ok { 0 } else { 1 });
}
