/// A task's closure, wrapped so that an array of them stores the function at its
/// natural abstraction.
///
/// An `Array` of bare function values stores each one maximally abstracted, so every
/// append allocates a reabstraction thunk and every call goes through it (measured:
/// a thunk hop plus a retain/release of its context per task). A struct field keeps
/// the function as written: no thunk, and a context-free closure stays context-free.
struct TaskBody: Sendable {
    let run: @Sendable () throws -> Void
}
