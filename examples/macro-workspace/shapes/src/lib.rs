use greet_macro::Greet;

#[derive(Greet)]
pub struct Square;
