<#
.SYNOPSIS
Logs on to an FSx for Windows File Server share as the DataSync user and lists it: the check fsx-migrate can
make before anything billable exists (`check` on a plan whose DataSync tasks do not exist yet).

.DESCRIPTION
Runs on a domain-joined Windows host (fsx-migrate sends it through SSM AWS-RunPowerShellScript). The password
never crosses SSM: the script reads it here from AWS Secrets Manager (-SecretId), with the AWS Tools for
PowerShell (Get-SECSecretValue) if they are installed, else with the AWS CLI (aws secretsmanager
get-secret-value). The instance's role needs secretsmanager:GetSecretValue on that secret (and kms:Decrypt if
a customer managed key encrypts it). A SecretString that is a JSON object with a "password" (or "Password")
key gives that key's value; any other string is the password itself, as fsx-migrate reads it for DataSync.

1. The password, from Secrets Manager (it is never printed).
2. A drive mapped for this session only (New-PSDrive -PSProvider FileSystem -Root <Share> -Credential), which
   is the SMB logon as -UserName.
3. The share's root listed (Get-ChildItem -Force, the first entry), then each of -Folders (relative to the
   share, e.g. /finance); a folder that cannot be listed is reported with its error, the others go on.
4. The drive removed. Nothing is written.

Each failed logon counts against the account's lockout threshold: `plan` and every `check` before the tasks
try once each.

It does not prove what only DataSync can (its own network interfaces' path, its handling of ACLs): that is
`fsx-migrate check` once the tasks exist. Unconfirmed on a real host: whether an SMB session the instance
already holds to the same server under another account makes the mapping fail (Windows error 1219: "Multiple
connections to a server or shared resource by the same user, using more than one user name, are not
allowed"); the script names that case in its error.

Standard output: progress lines, then as the very last line either
    FSXMIGRATE-RESULT {"share":"\\\\amznfsxa1b2c3d4.corp.example.com\\share","user":"CORP\\svc-datasync","password_from":"aws-tools","root_listed":true,"folders":[{"path":"/finance","listed":true,"error":null}]}
or
    FSXMIGRATE-ERROR <message>
with exit code 1 (the logon failed, or the password could not be read). See README.md beside this file.

.PARAMETER Share
The share as a UNC path, e.g. \\amznfsxa1b2c3d4.corp.example.com\share.

.PARAMETER UserName
The DataSync user, DOMAIN\name.

.PARAMETER SecretId
The Secrets Manager secret (ARN or name) holding the DataSync user's password.

.PARAMETER Folders
Folders below the share to list too, each starting with / (e.g. /finance).

.EXAMPLE
.\logon.ps1 -Share '\\amznfsxa1b2c3d4.corp.example.com\share' -UserName 'CORP\svc-datasync' -SecretId 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:datasync-AbCdEf' -Folders '/finance','/projects'
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Share,

    [Parameter(Mandatory = $true)]
    [string] $UserName,

    [Parameter(Mandatory = $true)]
    [string] $SecretId,

    [string[]] $Folders = @()
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# Straight to stdout: no host formatting that could wrap a long line (the RESULT or ERROR line must come last).
function Write-Line([string] $Text) {
    [Console]::Out.WriteLine($Text)
}

# As \u escapes the JSON survives any console code page.
function ConvertTo-AsciiJson($Value) {
    $json = ConvertTo-Json -InputObject $Value -Compress -Depth 6
    return [regex]::Replace($json, '[^\x00-\x7F]', [System.Text.RegularExpressions.MatchEvaluator] {
            param($m)
            '\u{0:x4}' -f [int][char]$m.Value
        })
}

# One line, for progress lines and the ERROR line.
function Get-OneLine($Text) {
    return (([string]$Text) -replace '\s*[\r\n]+\s*', ' ').Trim()
}

# The SecretString as the password: a JSON object's "password" (or "Password") key, compared with case as
# fsx-migrate does, else the whole string. Parsed with .NET, not a cmdlet: with PowerShell module logging on
# (event 4103), a cmdlet's parameter values are logged, and the password must not be.
function Get-PasswordFromSecretString([string] $SecretString) {
    if (-not $SecretString.TrimStart().StartsWith('{')) { return $SecretString }
    Add-Type -AssemblyName System.Web.Extensions
    $serializer = New-Object System.Web.Script.Serialization.JavaScriptSerializer
    $parsed = $null
    try { $parsed = $serializer.DeserializeObject($SecretString) } catch { $parsed = $null }
    if ($parsed -is [System.Collections.Generic.Dictionary[string, object]]) {
        foreach ($key in @('password', 'Password')) {
            if ($parsed.ContainsKey($key) -and $parsed[$key] -is [string]) { return [string]$parsed[$key] }
        }
        throw 'the secret is a JSON object without a "password" key'
    }
    return $SecretString
}

# A SecureString built character by character (ConvertTo-SecureString would log the password with module
# logging on).
function New-SecurePassword([string] $Password) {
    $secure = New-Object System.Security.SecureString
    foreach ($c in $Password.ToCharArray()) { $secure.AppendChar($c) }
    $secure.MakeReadOnly()
    return $secure
}

# The Region of a secret's ARN (arn:aws:secretsmanager:REGION:…); none for a secret given by name.
function Get-SecretRegion([string] $SecretId) {
    if ($SecretId -match '^arn:[^:]+:secretsmanager:([^:]+):') { return $Matches[1] }
    return $null
}

$exitCode = 0
$lastLine = ''
$stage = 'checking the arguments'
$driveName = 'FXMLOGON'
$mapped = $false
try {
    if ($Share -notmatch '^\\\\[^\\]+\\[^\\]+') { throw "-Share must be a UNC path (\\server\share), not '$Share'" }
    if ($UserName -notmatch '^[^\\]+\\[^\\]+$') { throw "-UserName must be DOMAIN\name, not '$UserName'" }
    foreach ($folder in $Folders) {
        if (-not $folder.StartsWith('/')) { throw "each of -Folders must start with /, not '$folder'" }
    }

    $stage = 'reading the password from Secrets Manager'
    $secretString = $null
    $passwordFrom = $null
    # The secret's own Region when its ARN names one; else the instance's default (a secret given by name).
    $region = Get-SecretRegion $SecretId
    if (Get-Command -Name Get-SECSecretValue -ErrorAction SilentlyContinue) {
        if ($null -ne $region) {
            $secretString = (Get-SECSecretValue -SecretId $SecretId -Region $region).SecretString
        }
        else {
            $secretString = (Get-SECSecretValue -SecretId $SecretId).SecretString
        }
        $passwordFrom = 'aws-tools'
    }
    else {
        $aws = Get-Command -Name aws -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($null -eq $aws) {
            throw 'neither the AWS Tools for PowerShell (Get-SECSecretValue) nor the AWS CLI (aws) is installed on this instance'
        }
        $arguments = @('secretsmanager', 'get-secret-value', '--secret-id', $SecretId, '--query', 'SecretString', '--output', 'text')
        if ($null -ne $region) { $arguments += @('--region', $region) }
        # Standard error goes to a file, not into the password: the AWS CLI warns there (deprecations,
        # proxies), and Windows PowerShell 5.1 turns a redirected stderr line into an error under 'Stop'.
        $errorFile = [System.IO.Path]::GetTempFileName()
        try {
            $ErrorActionPreference = 'Continue'
            $output = & $aws.Source @arguments 2> $errorFile
            $exit = $LASTEXITCODE
            $ErrorActionPreference = 'Stop'
            if ($exit -ne 0) {
                $reason = Get-OneLine ((Get-Content -LiteralPath $errorFile -ErrorAction SilentlyContinue) -join ' ')
                throw ("aws secretsmanager get-secret-value failed (exit {0}): {1}" -f $exit, $reason)
            }
        }
        finally {
            $ErrorActionPreference = 'Stop'
            Remove-Item -LiteralPath $errorFile -Force -ErrorAction SilentlyContinue
        }
        $secretString = (@($output) -join "`n")
        $passwordFrom = 'aws-cli'
    }
    if ([string]::IsNullOrEmpty($secretString)) { throw 'the secret has no SecretString' }
    $password = Get-PasswordFromSecretString $secretString
    if ([string]::IsNullOrEmpty($password)) { throw 'the password in the secret is empty' }
    Write-Line ("Password read from Secrets Manager ({0})." -f $passwordFrom)

    $stage = "logging on to $Share as $UserName"
    $secure = New-SecurePassword $password
    $password = $null
    $secretString = $null
    $credential = New-Object System.Management.Automation.PSCredential($UserName, $secure)
    try {
        New-PSDrive -Name $driveName -PSProvider FileSystem -Root $Share -Credential $credential -Scope Script | Out-Null
    }
    catch {
        $text = $_.ToString()
        if ($text -match '1219|[Mm]ultiple connections') {
            throw ("{0} (this host already holds an SMB session to the server under another account: run the script on a host without one, or close it with 'net use \\server /delete')" -f $text)
        }
        throw
    }
    $mapped = $true
    Write-Line ("Logged on to {0} as {1}." -f $Share, $UserName)

    $stage = "listing $Share"
    $first = @(Get-ChildItem -LiteralPath ("{0}:\" -f $driveName) -Force | Select-Object -First 1)
    Write-Line ("Listed the share's root ({0} entry seen)." -f $first.Count)

    $folderResults = @()
    foreach ($folder in $Folders) {
        $path = "{0}:{1}" -f $driveName, ($folder -replace '/', '\')
        try {
            $null = @(Get-ChildItem -LiteralPath $path -Force | Select-Object -First 1)
            $folderResults += [ordered]@{ path = $folder; listed = $true; error = $null }
            Write-Line ("Listed {0}." -f $folder)
        }
        catch {
            $reason = Get-OneLine $_.ToString()
            $folderResults += [ordered]@{ path = $folder; listed = $false; error = $reason }
            Write-Line ("Could not list {0}: {1}" -f $folder, $reason)
        }
    }

    $result = [ordered]@{
        share         = $Share
        user          = $UserName
        password_from = $passwordFrom
        root_listed   = $true
        folders       = $folderResults
    }
    $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
}
catch {
    $message = "{0}: {1} Nothing was changed (the check only reads)." -f $stage, $_.ToString()
    $lastLine = 'FSXMIGRATE-ERROR ' + (Get-OneLine $message)
    $exitCode = 1
}
finally {
    if ($mapped) {
        Remove-PSDrive -Name $driveName -Scope Script -ErrorAction SilentlyContinue
        # The SMB connection the credential made may outlive the drive; a later logon as another account
        # to the same server would then fail with error 1219.
        try {
            $ErrorActionPreference = 'Continue'
            & net.exe use $Share /delete /y 2>&1 | Out-Null
        }
        catch { }
        finally { $ErrorActionPreference = 'Stop' }
    }
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
