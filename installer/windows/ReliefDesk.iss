; Inno Setup 6 script: Windows installer for ReliefDesk 应急资源调度台 (x64, Windows 10/11).
; Packs the PyInstaller one-folder build dist\ReliefDesk\ (installer\windows\ReliefDesk.spec).
; The version is not written here: pass the one in gis\version.py, from the repository root:
;   $v = python -c "from gis.version import __version__; print(__version__)"
;   iscc /DAppVersion=$v installer\windows\ReliefDesk.iss
; Output: dist\ReliefDesk-<version>-setup-x64.exe. Guide: installer\windows\BUILD.md.
; Not built or run by the project's CI (no Windows there): tests\test_windows_installer.py only
; checks that its names, paths and version source agree with the app and the spec.

#define AppName "ReliefDesk"
#define AppExeName "ReliefDesk.exe"
#define CliExeName "reliefdesk-cli.exe"
#define WorkspaceExt ".gpkg"
#define WorkspaceProgId "ReliefDesk.Workspace"
#define WorkspaceTypeName "ReliefDesk 工作空间"
#define BundleDir "..\..\dist\ReliefDesk"

#ifndef AppVersion
  #error AppVersion is not defined: run iscc /DAppVersion=<the version in gis\version.py> (see BUILD.md)
#endif

[Setup]
AppId={{E78F896A-9789-4AE4-AAF5-1500D7E2E9C3}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=ReliefDesk maintainers
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} 应急资源调度台 安装程序
; per-machine under Program Files by default; the first page lets a user without admin rights
; install for themselves only (under %LOCALAPPDATA%\Programs): {autopf} and HKA follow the choice
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
LicenseFile=..\..\LICENSE
SetupIconFile=..\..\resources\icons\reliefdesk.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName} {#AppVersion}
ChangesAssociations=yes
CloseApplications=yes
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup-x64
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Languages]
; Inno Setup 6.5+ ships Simplified Chinese; older releases have it as a separate download
#if FileExists(CompilerPath + "Languages\ChineseSimplified.isl")
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#endif
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "associate"; Description: "用 ReliefDesk 打开 {#WorkspaceExt} 工作空间 (Open {#WorkspaceExt} workspaces with ReliefDesk)"; GroupDescription: "文件关联 (File association):"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Comment: "应急资源调度台"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Registry]
; "Open with" always lists ReliefDesk for .gpkg; the "associate" task also makes it the default
; (Windows may still ask the user once). HKA: HKLM for a per-machine install, HKCU per user.
Root: HKA; Subkey: "Software\Classes\{#WorkspaceExt}\OpenWithProgids"; ValueType: string; ValueName: "{#WorkspaceProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#WorkspaceExt}"; ValueType: string; ValueName: ""; ValueData: "{#WorkspaceProgId}"; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#WorkspaceProgId}"; ValueType: string; ValueName: ""; ValueData: "{#WorkspaceTypeName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#WorkspaceProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExeName},0"
Root: HKA; Subkey: "Software\Classes\{#WorkspaceProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}\SupportedTypes"; ValueType: string; ValueName: "{#WorkspaceExt}"; ValueData: ""; Flags: uninsdeletekey

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; The uninstaller removes {app} and the entries above. The user's settings, logs and caches
; (%APPDATA%\ReliefDesk, %LOCALAPPDATA%\reliefdesk) and saved workspaces are left in place.
