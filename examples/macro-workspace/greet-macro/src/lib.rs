//! `#[derive(Greet)]`: an inherent `greeting` method naming the type, and
//! `banner!("text")`: a function framing the text. No dependencies: the
//! macros read and write token streams as text.

use proc_macro::{TokenStream, TokenTree};

#[proc_macro_derive(Greet)]
pub fn derive_greet(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let name = loop {
        match tokens.next() {
            Some(TokenTree::Ident(ident)) if ident.to_string() == "struct" => match tokens.next() {
                Some(TokenTree::Ident(name)) => break name.to_string(),
                _ => panic!("#[derive(Greet)] needs a named struct"),
            },
            Some(_) => continue,
            None => panic!("#[derive(Greet)] works on structs only"),
        }
    };
    format!(
        "impl {name} {{ #[inline(never)] pub fn greeting(&self, tick: u64) -> String {{ format!(\"hello from {{}} {{}}\", \"{name}\", tick) }} }}"
    )
    .parse()
    .unwrap()
}

/// `banner!("text")` defines `fn banner() -> String`, the text in a frame.
#[proc_macro]
pub fn banner(input: TokenStream) -> TokenStream {
    let text = input.to_string();
    format!("#[inline(never)] fn banner() -> String {{ format!(\"[{{}}]\", {text}) }}")
        .parse()
        .unwrap()
}
