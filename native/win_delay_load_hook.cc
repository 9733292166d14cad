// win_delay_load_hook.cc - lets the Windows addon load into any host process, not only one
// whose executable is named node.exe (Windows builds only; an empty file elsewhere).
//
// The addon's Node-API and libuv imports name the module "node.exe" (the import library
// is made from node-api-headers' .def). They are linked as delay-loaded imports (mingw:
// `dlltool --output-delaylib`; MSVC: node-gyp's own copy of this hook with /DELAYLOAD),
// so they are bound on first call by __delayLoadHelper2. Before loading a DLL it calls
// the notification hook with dliNotePreLoadLibrary: "the hook can return a valid HMODULE
// of the DLL, and the helper will use it instead of calling LoadLibrary" (Microsoft
// docs, "Understand the delay load helper function", notification hooks). Returning the
// process's own image, GetModuleHandle(NULL) ("If this parameter is NULL,
// GetModuleHandle returns a handle to the file used to create the calling process"),
// binds the imports to whatever executable hosts the addon and exports Node-API: a
// renamed node.exe, Electron, or another embedder.
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
// windows.h first: delayimp.h uses its types.
#include <delayimp.h>
#include <string.h>

namespace {

FARPROC WINAPI BindHostExecutable(unsigned event, PDelayLoadInfo info) {
  if (event != dliNotePreLoadLibrary || _stricmp(info->szDll, "node.exe") != 0) return nullptr;
  return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
}

}  // namespace

// The helper reads this variable (declared extern "C" by delayimp.h); defining it here
// replaces the runtime's default (no hook).
PfnDliHook __pfnDliNotifyHook2 = BindHostExecutable;
#endif  // _WIN32
