//! Typed names for the values a flow passes between its tasks.

use std::fmt;
use std::marker::PhantomData;

/// The name of a value of type `T` in a flow's store.
///
/// Tasks read their inputs and write their outputs through symbols, so a
/// misspelt name or a value of the wrong type is a compile error rather than
/// a `BAD_INPUT` failure at run time. The store itself stays a map of JSON
/// values keyed by [`Sym::name`], which is what is persisted and what the
/// flow's build-time check matches requirements against.
///
/// ```
/// use volctl::flow::Sym;
/// const SIZE: Sym<u64> = Sym::new("size");
/// assert_eq!(SIZE.name(), "size");
/// ```
pub struct Sym<T> {
    name: &'static str,
    ty: PhantomData<fn() -> T>,
}

impl<T> Sym<T> {
    /// A symbol called `name` carrying values of type `T`.
    pub const fn new(name: &'static str) -> Self {
        Sym {
            name,
            ty: PhantomData,
        }
    }

    /// The name under which the value is stored.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

// Written by hand: derived impls would demand `T: Clone` etc.
impl<T> Clone for Sym<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Sym<T> {}

impl<T> PartialEq for Sym<T> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<T> Eq for Sym<T> {}

impl<T> fmt::Debug for Sym<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sym<{}>({:?})", std::any::type_name::<T>(), self.name)
    }
}

impl<T> fmt::Display for Sym<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}
