//! Linux errno values returned by the control interface. Validation code in this crate
//! returns them so the module passes them through unchanged and host tests can name them.

/// A positive Linux errno value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub i32);

pub const ENOENT: Errno = Errno(2);
pub const EIO: Errno = Errno(5);
pub const ENXIO: Errno = Errno(6);
pub const ENOMEM: Errno = Errno(12);
pub const EFAULT: Errno = Errno(14);
pub const EBUSY: Errno = Errno(16);
pub const EEXIST: Errno = Errno(17);
pub const EINVAL: Errno = Errno(22);
pub const ENOSPC: Errno = Errno(28);
pub const ERANGE: Errno = Errno(34);
pub const EMSGSIZE: Errno = Errno(90);
pub const EOPNOTSUPP: Errno = Errno(95);
