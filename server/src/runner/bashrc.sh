# Shell integration of the IDE's terminals: OSC 133 marks around prompts and
# commands (A prompt start, B prompt end, C command start, D;N command end with
# its exit code), as VS Code's shell integration writes them, and OSC 633;E with
# the command line. The server reads them to record history and to sync files.
# Each mark it reads ends with this terminal's secret nonce, so a program that
# prints marks (a crafted file shown with cat) cannot end commands or forge
# history; the nonce is kept unexported, out of the programs' environment.
__webide_nonce=${WEBIDE_NONCE-}
unset WEBIDE_NONCE
[ -r /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -r "$HOME/.bashrc" ] && . "$HOME/.bashrc"

HISTCONTROL=
HISTFILE="$HOME/.bash_history"
shopt -s histappend checkwinsize

__webide_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//;/\\x3b}
  s=${s//$'\n'/\\x0a}
  s=${s//$'\a'/\\x07}
  s=${s//$'\e'/\\x1b}
  printf '%s' "$s"
}

# PS0 is expanded once a command line is read, just before it runs.
__webide_preexec() {
  local line
  line=$(HISTTIMEFORMAT= builtin history 1)
  line=${line#"${line%%[![:space:]]*}"}
  line=${line#*[0-9] }
  line=${line#"${line%%[![:space:]]*}"}
  printf '\e]633;E;%s;%s\a\e]133;C;%s\a' "$(__webide_escape "$line")" "$__webide_nonce" \
    "$__webide_nonce"
}

__webide_precmd() {
  local code=$?
  printf '\e]133;D;%s;%s\a' "$code" "$__webide_nonce"
  builtin history -a
}

PROMPT_COMMAND=__webide_precmd
PS0='$(__webide_preexec)'
PS1='\[\e]133;A;${__webide_nonce}\a\]\[\e[1;32m\]\u@webide\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ \[\e]133;B\a\]'
